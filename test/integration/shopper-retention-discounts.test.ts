import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { activeWithQueuedCharge, type ShopperHarness, startShopperHarness } from '../support/shopper-harness.ts'

/**
 * Discount codes after checkout over HTTP against the simulator and a real Redis: one code per address (carried to
 * its queued charges) and a code on one charge. Each refusal of a code is a 422 with its own problem code, never 502.
 */
let h: ShopperHarness
let app: FastifyInstance
let alice: string
let aliceId: string
let bobId: string

beforeAll(async () => {
  h = await startShopperHarness('disc')
  app = await h.bridge()
  alice = await h.mint(app, 'alice@example.com')
  aliceId = await h.customerId('alice@example.com')
  bobId = await h.customerId('bob@example.com')
})

beforeEach(async () => {
  await h.reset()
})

afterAll(async () => {
  await h?.close()
})

async function aliceTarget() {
  const { subscription, charge } = activeWithQueuedCharge(await h.sim.state(), aliceId)
  return {
    addressId: String(subscription.address_id),
    chargeId: String(charge.id),
    subscriptionId: String(subscription.id),
  }
}

const writes = (calls: string[]) => calls.filter((line) => !line.startsWith('GET'))

describe('a discount code on an address', () => {
  it('applies a code to the address and its queued charges, refuses a second one, and removes it', async () => {
    const { addressId, chargeId } = await aliceTarget()
    const total = (await h.call(app, alice, 'GET', `/v1/charges/${chargeId}`)).json().total_price
    const applied = await h.call(app, alice, 'POST', `/v1/addresses/${addressId}/discount`, { code: 'welcome10' })
    expect(applied.statusCode).toBe(200)
    expect(applied.json()).toEqual({ address_id: addressId, discount_code: 'welcome10' })
    let state = await h.sim.state()
    expect(state.addresses.find((row) => String(row.id) === addressId)?.discounts).toHaveLength(1)
    // The write invalidated the shopper's charges: the next read shows the discounted total.
    const after = (await h.call(app, alice, 'GET', `/v1/charges/${chargeId}`)).json().total_price
    expect(Number(after)).toBeLessThan(Number(total))

    const before = await h.ledgerLength()
    const second = await h.call(app, alice, 'POST', `/v1/addresses/${addressId}/discount`, { code: 'FIVEOFF' })
    expect(second.statusCode).toBe(422)
    expect(second.json().code).toBe('DISCOUNT_ALREADY_APPLIED')
    const same = await h.call(app, alice, 'POST', `/v1/addresses/${addressId}/discount`, { code: 'WELCOME10' })
    expect(same.statusCode).toBe(200)
    expect(writes(await h.upstreamSince(before))).toEqual([])

    const removed = await h.call(app, alice, 'DELETE', `/v1/addresses/${addressId}/discount`)
    expect(removed.statusCode).toBe(200)
    expect(removed.json().discount_code).toBeNull()
    state = await h.sim.state()
    expect(state.addresses.find((row) => String(row.id) === addressId)?.discounts).toEqual([])
  })

  it('answers each refused code with its own 422 code', async () => {
    const { addressId } = await aliceTarget()
    const cases: [string, string][] = [
      ['NOSUCHCODE', 'DISCOUNT_NOT_FOUND'],
      ['SUMMER5', 'DISCOUNT_EXPIRED'],
      ['DRIPPER25', 'DISCOUNT_NOT_APPLICABLE'],
      ['PAUSED20', 'DISCOUNT_NOT_APPLICABLE'],
      ['NEXTMONTH10', 'DISCOUNT_NOT_APPLICABLE'],
    ]
    for (const [code, expected] of cases) {
      const response = await h.call(app, alice, 'POST', `/v1/addresses/${addressId}/discount`, { code })
      expect(response.statusCode, code).toBe(422)
      expect(response.json().code, code).toBe(expected)
    }
  })
})

describe('a discount code on one charge', () => {
  it('applies and removes a code on a queued charge; a second code or a skipped charge is refused', async () => {
    const { addressId, chargeId, subscriptionId } = await aliceTarget()
    const applied = await h.call(app, alice, 'POST', `/v1/charges/${chargeId}/discount`, { code: 'FIVEOFF' })
    expect(applied.statusCode).toBe(200)
    expect(applied.json().discounts.map((line: { code: string }) => line.code)).toEqual(['FIVEOFF'])
    const second = await h.call(app, alice, 'POST', `/v1/charges/${chargeId}/discount`, { code: 'WELCOME10' })
    expect(second.statusCode).toBe(422)
    expect(second.json().code).toBe('DISCOUNT_ALREADY_APPLIED')
    const removed = await h.call(app, alice, 'DELETE', `/v1/charges/${chargeId}/discount`)
    expect(removed.statusCode).toBe(200)
    expect(removed.json().discounts).toEqual([])

    // With a code on the address, the charge takes no code of its own (Recharge's rule).
    await h.call(app, alice, 'POST', `/v1/addresses/${addressId}/discount`, { code: 'WELCOME10' })
    const onAddress = await h.call(app, alice, 'DELETE', `/v1/charges/${chargeId}/discount`)
    expect(onAddress.statusCode).toBe(200)
    const blocked = await h.call(app, alice, 'POST', `/v1/charges/${chargeId}/discount`, { code: 'FIVEOFF' })
    expect(blocked.json().code).toBe('DISCOUNT_ALREADY_APPLIED')
    await h.call(app, alice, 'DELETE', `/v1/addresses/${addressId}/discount`)

    const expired = await h.call(app, alice, 'POST', `/v1/charges/${chargeId}/discount`, { code: 'SUMMER5' })
    expect(expired.json().code).toBe('DISCOUNT_EXPIRED')

    expect((await h.call(app, alice, 'POST', `/v1/subscriptions/${subscriptionId}/skip`)).statusCode).toBe(200)
    const charges = (await h.call(app, alice, 'GET', '/v1/charges')).json().charges
    const skipped = charges.find((row: { status: string }) => row.status === 'skipped')
    const before = await h.ledgerLength()
    const refused = await h.call(app, alice, 'POST', `/v1/charges/${skipped.id}/discount`, { code: 'FIVEOFF' })
    expect(refused.statusCode).toBe(422)
    expect(refused.json().code).toBe('CHARGE_NOT_QUEUED')
    expect(writes(await h.upstreamSince(before))).toEqual([])
  })
})

describe('guarantees', () => {
  it('answers 403 when the policy turns apply_discount off, before any upstream write', async () => {
    const strict = await h.bridge({ actions: { apply_discount: false } })
    const token = await h.mint(strict, 'alice@example.com')
    const { addressId, chargeId } = await aliceTarget()
    const before = await h.ledgerLength()
    for (const [method, url] of [
      ['POST', `/v1/addresses/${addressId}/discount`],
      ['DELETE', `/v1/addresses/${addressId}/discount`],
      ['POST', `/v1/charges/${chargeId}/discount`],
      ['DELETE', `/v1/charges/${chargeId}/discount`],
    ] as const) {
      const response = await h.call(strict, token, method, url, method === 'POST' ? { code: 'FIVEOFF' } : undefined)
      expect(response.statusCode, url).toBe(403)
      expect(response.json()).toMatchObject({ code: 'ACTION_NOT_ALLOWED', action: 'apply_discount' })
    }
    expect(writes(await h.upstreamSince(before))).toEqual([])
  })

  it('answers 404 for another shopper’s address and charge, with no upstream call for them', async () => {
    const bobs = activeWithQueuedCharge(await h.sim.state(), bobId)
    const address = String(bobs.subscription.address_id)
    const charge = String(bobs.charge.id)
    await h.call(app, alice, 'GET', '/v1/addresses')
    await h.call(app, alice, 'GET', '/v1/charges')
    const before = await h.ledgerLength()
    for (const [method, url] of [
      ['POST', `/v1/addresses/${address}/discount`],
      ['DELETE', `/v1/addresses/${address}/discount`],
      ['POST', `/v1/charges/${charge}/discount`],
      ['DELETE', `/v1/charges/${charge}/discount`],
    ] as const) {
      const response = await h.call(app, alice, method, url, method === 'POST' ? { code: 'FIVEOFF' } : undefined)
      expect(response.statusCode, url).toBe(404)
    }
    expect((await h.upstreamSince(before)).filter((line) => line.includes(address) || line.includes(charge))).toEqual(
      [],
    )
  })

  it('sends a replayed Idempotency-Key to Recharge once', async () => {
    const { addressId, chargeId } = await aliceTarget()
    const before = await h.ledgerLength()
    for (const url of [`/v1/charges/${chargeId}/discount`, `/v1/addresses/${addressId}/discount`]) {
      const key = randomUUID()
      const first = await h.call(app, alice, 'POST', url, { code: 'FIVEOFF' }, { 'idempotency-key': key })
      const again = await h.call(app, alice, 'POST', url, { code: 'FIVEOFF' }, { 'idempotency-key': key })
      expect(first.statusCode, url).toBe(200)
      expect(again.headers['idempotent-replayed']).toBe('true')
      expect(again.body).toBe(first.body)
      // The address takes no code while its charge has one: remove that one between the two.
      if (url.startsWith('/v1/charges')) await h.call(app, alice, 'DELETE', url)
    }
    const sent = writes(await h.upstreamSince(before))
    expect(sent.filter((line) => line.endsWith('/apply_discount'))).toHaveLength(1)
    expect(sent.filter((line) => line.startsWith('PUT /addresses'))).toHaveLength(1)
  })

  it('answers a code whose answer was lost as applied, from the record read back, sent once', async () => {
    const { addressId, chargeId } = await aliceTarget()
    await h.sim.setFaults([{ match: { method: 'POST', path: '/charges' }, truncate: true, count: 1 }])
    const before = await h.ledgerLength()
    const charge = await h.call(app, alice, 'POST', `/v1/charges/${chargeId}/discount`, { code: 'FIVEOFF' })
    expect(charge.statusCode).toBe(200)
    expect(charge.json().discounts.map((line: { code: string }) => line.code)).toEqual(['FIVEOFF'])
    await h.call(app, alice, 'DELETE', `/v1/charges/${chargeId}/discount`)

    await h.sim.setFaults([{ match: { method: 'PUT', path: '/addresses' }, truncate: true, count: 1 }])
    const address = await h.call(app, alice, 'POST', `/v1/addresses/${addressId}/discount`, { code: 'WELCOME10' })
    expect(address.statusCode).toBe(200)
    expect(address.json().discount_code).toBe('WELCOME10')
    const sent = writes(await h.upstreamSince(before))
    expect(sent.filter((line) => line.endsWith('/apply_discount'))).toHaveLength(1)
    expect(sent.filter((line) => line.startsWith('PUT /addresses'))).toHaveLength(1)
  })
})
