import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { deleteKeys } from '../support/redis.ts'
import { dateInDays, type ShopperHarness, startShopperHarness } from '../support/shopper-harness.ts'

/**
 * One-time add-ons over HTTP against the simulator and a real Redis: priced from the catalog, put on the next
 * delivery by default, policy switch add_onetime, ownership (404 and no upstream call for a foreign id),
 * Idempotency-Key, Recharge's refusals as 422 codes, and a lost answer confirmed by reading back.
 */
const DRIPPER = { external_product_id: '7100000004', external_variant_id: '7200000041' } // one-time only, 32.00
const MATCHA = { external_product_id: '7100000006', external_variant_id: '7200000061' } // subscription only

let h: ShopperHarness
let app: FastifyInstance
let alice: string
let aliceId: string
let bobId: string

beforeAll(async () => {
  h = await startShopperHarness('onetimes')
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

async function aliceAddresses() {
  const state = await h.sim.state()
  const active = state.subscriptions
    .filter((row) => String(row.customer_id) === aliceId && row.status === 'active')
    .sort((a, b) => String(a.next_charge_scheduled_at).localeCompare(String(b.next_charge_scheduled_at)))
  const first = active[0]
  const other = active.find((row) => row.address_id !== first?.address_id)
  const nextCharge = state.charges
    .filter((row) => row.status === 'queued' && row.address_id === first?.address_id)
    .sort((a, b) => a.scheduled_at.localeCompare(b.scheduled_at))[0]
  return { state, soonest: String(first?.address_id), other: String(other?.address_id), otherSub: other, nextCharge }
}

describe('one-time add-ons', () => {
  it('adds a catalog product to the next delivery at the catalog price, changes and removes it', async () => {
    const { soonest, nextCharge } = await aliceAddresses()
    const created = await h.call(app, alice, 'POST', '/v1/onetimes', { ...DRIPPER, quantity: 2 })
    expect(created.statusCode).toBe(201)
    const onetime = created.json()
    expect(onetime).toMatchObject({
      address_id: soonest,
      external_variant_id: DRIPPER.external_variant_id,
      product_title: 'Ceramic Pour-Over Dripper',
      variant_title: 'White',
      quantity: 2,
      price: '32.00',
      currency: 'USD',
      next_charge_date: nextCharge?.scheduled_at,
    })
    // It is a line of that delivery.
    const charge = (await h.sim.state()).charges.find((row) => row.id === nextCharge?.id)
    expect(charge?.line_items.some((item) => String(item.purchase_item_id) === onetime.id)).toBe(true)
    expect(
      (await h.call(app, alice, 'GET', '/v1/onetimes')).json().onetimes.map((row: { id: string }) => row.id),
    ).toEqual([onetime.id])
    const schedule = (await h.call(app, alice, 'GET', '/v1/delivery-schedule')).json()
    const next = schedule.deliveries.find(
      (delivery: { date: string; address_id: string }) =>
        delivery.date === nextCharge?.scheduled_at && delivery.address_id === soonest,
    )
    expect(next.lines).toContainEqual(expect.objectContaining({ kind: 'onetime', id: onetime.id, quantity: 2 }))

    const later = dateInDays(20)
    const patched = await h.call(app, alice, 'PATCH', `/v1/onetimes/${onetime.id}`, {
      quantity: 3,
      next_charge_date: later,
    })
    expect(patched.statusCode).toBe(200)
    expect(patched.json()).toMatchObject({ quantity: 3, next_charge_date: later })
    expect((await h.sim.state()).onetimes[0]).toMatchObject({ quantity: 3, next_charge_scheduled_at: later })

    const removed = await h.call(app, alice, 'DELETE', `/v1/onetimes/${onetime.id}`)
    expect(removed.statusCode).toBe(204)
    expect((await h.sim.state()).onetimes).toEqual([])
    expect((await h.call(app, alice, 'GET', '/v1/onetimes')).json().onetimes).toEqual([])
  })

  it('takes the date and address asked, never a price from the client', async () => {
    const { other } = await aliceAddresses()
    const date = dateInDays(15)
    const created = await h.call(app, alice, 'POST', '/v1/onetimes', {
      ...DRIPPER,
      quantity: 1,
      address_id: other,
      next_charge_date: date,
    })
    expect(created.statusCode).toBe(201)
    expect(created.json()).toMatchObject({ address_id: other, next_charge_date: date, price: '32.00' })
    const priced = await h.call(app, alice, 'POST', '/v1/onetimes', { ...DRIPPER, quantity: 1, price: '0.01' })
    expect(priced.statusCode).toBe(400)
  })

  it('refuses what the catalog does not sell one-time, quantities and dates out of bounds, before any write', async () => {
    const before = await h.ledgerLength()
    const cases: [string, object, number, string][] = [
      [
        'unknown product',
        { external_product_id: '999999', external_variant_id: '1', quantity: 1 },
        422,
        'PRODUCT_NOT_OFFERED',
      ],
      ['unknown variant', { ...DRIPPER, external_variant_id: '1', quantity: 1 }, 422, 'PRODUCT_NOT_OFFERED'],
      ['quantity', { ...DRIPPER, quantity: 11 }, 422, 'UNPROCESSABLE'],
      ['today', { ...DRIPPER, quantity: 1, next_charge_date: dateInDays(0) }, 422, 'DATE_NOT_ALLOWED'],
      ['too far', { ...DRIPPER, quantity: 1, next_charge_date: dateInDays(91) }, 422, 'DATE_NOT_ALLOWED'],
      ['not a date', { ...DRIPPER, quantity: 1, next_charge_date: '2026-02-30' }, 422, 'DATE_NOT_ALLOWED'],
    ]
    for (const [name, body, status, code] of cases) {
      const response = await h.call(app, alice, 'POST', '/v1/onetimes', body)
      expect(response.statusCode, name).toBe(status)
      expect(response.json().code, name).toBe(code)
    }
    expect((await h.upstreamSince(before)).filter((line) => !line.startsWith('GET'))).toEqual([])
  })

  it('refuses a product the catalog sells by subscription only', async () => {
    // No seeded product is subscription-only: take the one-time plan away from one, for a bridge with its own cache.
    const plan = (await h.sim.state()).plans.find(
      (row) => String(row.external_product_id.ecommerce) === MATCHA.external_product_id && row.type === 'onetime',
    )
    expect((await h.sim.api('DELETE', `/plans/${plan?.id}`)).status).toBe(204)
    const prefix = `rbsub${randomUUID().slice(0, 8)}`
    const fresh = await h.bridge(undefined, {}, { REDIS_KEY_PREFIX: prefix })
    try {
      const token = await h.mint(fresh, 'alice@example.com')
      const response = await h.call(fresh, token, 'POST', '/v1/onetimes', { ...MATCHA, quantity: 1 })
      expect(response.statusCode).toBe(422)
      expect(response.json()).toMatchObject({ code: 'PRODUCT_NOT_OFFERED' })
      expect(response.json().errors[0].message).toMatch(/subscription only/)
    } finally {
      await deleteKeys(h.redis, `${prefix}*`)
    }
  })

  it('refuses an address without an active subscription: from the cached records, and when Recharge says so', async () => {
    const { other, otherSub } = await aliceAddresses()
    // Warm: the bridge still believes the subscription at `other` is active.
    expect((await h.call(app, alice, 'GET', '/v1/subscriptions')).statusCode).toBe(200)
    const cancelled = await h.sim.api('POST', `/subscriptions/${otherSub?.id}/cancel`, { cancellation_reason: 'test' })
    expect(cancelled.status).toBe(200)
    const stale = await h.call(app, alice, 'POST', '/v1/onetimes', { ...DRIPPER, quantity: 1, address_id: other })
    expect(stale.statusCode).toBe(422)
    expect(stale.json().code).toBe('ADDRESS_NOT_ACTIVE')
    // The write invalidated the shopper's records: now the bridge knows without asking Recharge to write.
    const before = await h.ledgerLength()
    const known = await h.call(app, alice, 'POST', '/v1/onetimes', { ...DRIPPER, quantity: 1, address_id: other })
    expect(known.json().code).toBe('ADDRESS_NOT_ACTIVE')
    expect((await h.upstreamSince(before)).filter((line) => line.startsWith('POST'))).toEqual([])
  })

  it('answers 404 for another shopper’s address and onetime, with no upstream call for them', async () => {
    const state = await h.sim.state()
    const bobAddress = String(state.addresses.find((row) => String(row.customer_id) === bobId)?.id)
    const bobs = await h.sim.api('POST', '/onetimes', {
      address_id: Number(bobAddress),
      external_variant_id: { ecommerce: DRIPPER.external_variant_id },
      quantity: 1,
      add_to_next_charge: true,
    })
    expect(bobs.status).toBe(201)
    const bobOnetime = String(bobs.body.onetime.id)
    await h.call(app, alice, 'GET', '/v1/onetimes')
    await h.call(app, alice, 'GET', '/v1/addresses')
    const before = await h.ledgerLength()
    const attempts: [string, 'POST' | 'PATCH' | 'DELETE', string, object?][] = [
      ['add to bob’s address', 'POST', '/v1/onetimes', { ...DRIPPER, quantity: 1, address_id: bobAddress }],
      ['change bob’s onetime', 'PATCH', `/v1/onetimes/${bobOnetime}`, { quantity: 2 }],
      ['remove bob’s onetime', 'DELETE', `/v1/onetimes/${bobOnetime}`],
      ['unknown onetime', 'DELETE', '/v1/onetimes/999999999'],
    ]
    for (const [name, method, url, body] of attempts) {
      const response = await h.call(app, alice, method, url, body)
      expect(response.statusCode, name).toBe(404)
      expect(response.json().code, name).toBe('NOT_FOUND')
    }
    const calls = await h.upstreamSince(before)
    expect(calls.filter((line) => line.includes(bobOnetime) || line.includes(bobAddress))).toEqual([])
    expect(calls.filter((line) => !line.startsWith('GET'))).toEqual([])
    expect((await h.sim.state()).onetimes.find((row) => String(row.id) === bobOnetime)?.quantity).toBe(1)
  })

  it('replays a repeated Idempotency-Key without a second upstream write', async () => {
    const key = randomUUID()
    const before = await h.ledgerLength()
    const first = await h.call(
      app,
      alice,
      'POST',
      '/v1/onetimes',
      { ...DRIPPER, quantity: 1 },
      { 'idempotency-key': key },
    )
    const again = await h.call(
      app,
      alice,
      'POST',
      '/v1/onetimes',
      { ...DRIPPER, quantity: 1 },
      { 'idempotency-key': key },
    )
    expect(first.statusCode).toBe(201)
    expect(again.statusCode).toBe(201)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.body).toBe(first.body)
    expect((await h.upstreamSince(before)).filter((line) => line === 'POST /onetimes')).toHaveLength(1)
    expect((await h.sim.state()).onetimes).toHaveLength(1)

    const id = first.json().id
    const removeKey = randomUUID()
    const removed = await h.call(app, alice, 'DELETE', `/v1/onetimes/${id}`, undefined, {
      'idempotency-key': removeKey,
    })
    const removedAgain = await h.call(app, alice, 'DELETE', `/v1/onetimes/${id}`, undefined, {
      'idempotency-key': removeKey,
    })
    expect([removed.statusCode, removedAgain.statusCode]).toEqual([204, 204])
    expect((await h.upstreamSince(before)).filter((line) => line.startsWith('DELETE'))).toHaveLength(1)
  })

  it('confirms a write whose answer was lost by reading it back', async () => {
    await h.call(app, alice, 'GET', '/v1/onetimes')
    await h.sim.setFaults([{ match: { method: 'POST', path: '/onetimes' }, truncate: true, count: 1 }])
    const created = await h.call(app, alice, 'POST', '/v1/onetimes', { ...DRIPPER, quantity: 2 })
    expect(created.statusCode).toBe(201)
    const [applied] = (await h.sim.state()).onetimes
    expect(created.json()).toMatchObject({ id: String(applied?.id), quantity: 2 })

    await h.sim.setFaults([{ match: { method: 'PUT', path: '/onetimes/' }, malformed: true, count: 1 }])
    const patched = await h.call(app, alice, 'PATCH', `/v1/onetimes/${applied?.id}`, { quantity: 4 })
    expect(patched.statusCode).toBe(200)
    expect(patched.json().quantity).toBe(4)

    await h.sim.setFaults([{ match: { method: 'DELETE', path: '/onetimes/' }, truncate: true, count: 1 }])
    const removed = await h.call(app, alice, 'DELETE', `/v1/onetimes/${applied?.id}`)
    expect(removed.statusCode).toBe(204)
    expect((await h.sim.state()).onetimes).toEqual([])
  })

  it('answers an unknown outcome when the read-back does not show the change', async () => {
    // A 500 after the write was received: Recharge did not apply it here, so the read-back cannot confirm it.
    await h.sim.setFaults([{ match: { method: 'POST', path: '/onetimes' }, status: 500, count: 5 }])
    const created = await h.call(app, alice, 'POST', '/v1/onetimes', { ...DRIPPER, quantity: 2 })
    expect(created.statusCode).toBeGreaterThanOrEqual(500)
    expect(created.json().outcome).toBe('unknown')
  })
})

describe('store policy', () => {
  it('answers 403 ACTION_NOT_ALLOWED for every onetime write when add_onetime is off', async () => {
    const strict = await h.bridge({ actions: { add_onetime: false } })
    const token = await h.mint(strict, 'alice@example.com')
    const created = await h.call(app, alice, 'POST', '/v1/onetimes', { ...DRIPPER, quantity: 1 })
    const id = created.json().id
    const before = await h.ledgerLength()
    const attempts: ['POST' | 'PATCH' | 'DELETE', string, object?][] = [
      ['POST', '/v1/onetimes', { ...DRIPPER, quantity: 1 }],
      ['PATCH', `/v1/onetimes/${id}`, { quantity: 2 }],
      ['DELETE', `/v1/onetimes/${id}`],
    ]
    for (const [method, url, body] of attempts) {
      const response = await h.call(strict, token, method, url, body)
      expect(response.statusCode, `${method} ${url}`).toBe(403)
      expect(response.json()).toMatchObject({ code: 'ACTION_NOT_ALLOWED', action: 'add_onetime' })
    }
    expect(await h.upstreamSince(before)).toEqual([])
    // Reading stays allowed.
    expect((await h.call(strict, token, 'GET', '/v1/onetimes')).statusCode).toBe(200)
  })
})
