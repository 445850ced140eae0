import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { activeWithQueuedCharge, type ShopperHarness, startShopperHarness } from '../support/shopper-harness.ts'
import { until } from '../support/until.ts'

/**
 * "Order now" over HTTP against the simulator and a real Redis: off by default; with the policy on, a queued charge
 * is billed today behind checkout's double-charge protection (Idempotency-Key required, one attempt per charge at a
 * time), and a lost answer is read back, never re-sent.
 */
let h: ShopperHarness
let app: FastifyInstance
let alice: string
let aliceId: string
let bobId: string

beforeAll(async () => {
  h = await startShopperHarness('ordnow')
  app = await h.bridge({ actions: { order_now: true } })
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

async function aliceCharge() {
  const { charge, subscription } = activeWithQueuedCharge(await h.sim.state(), aliceId)
  return { chargeId: String(charge.id), subscriptionId: String(subscription.id) }
}

const processCalls = (calls: string[]) => calls.filter((line) => line.endsWith('/process'))
const key = () => ({ 'idempotency-key': randomUUID() })

describe('order now', () => {
  it('is off in the default policy (403) and needs an Idempotency-Key (428), before any upstream write', async () => {
    const defaults = await h.bridge()
    const token = await h.mint(defaults, 'alice@example.com')
    const { chargeId, subscriptionId } = await aliceCharge()
    const before = await h.ledgerLength()
    const off = await h.call(defaults, token, 'POST', `/v1/charges/${chargeId}/process`, {}, key())
    expect(off.statusCode).toBe(403)
    expect(off.json()).toMatchObject({ code: 'ACTION_NOT_ALLOWED', action: 'order_now' })
    const detail = (await h.call(defaults, token, 'GET', `/v1/subscriptions/${subscriptionId}`)).json()
    expect(detail.allowed_actions).not.toContain('order_now')
    const keyless = await h.call(app, alice, 'POST', `/v1/charges/${chargeId}/process`)
    expect(keyless.statusCode).toBe(428)
    expect(keyless.json().code).toBe('IDEMPOTENCY_KEY_REQUIRED')
    expect(processCalls(await h.upstreamSince(before))).toEqual([])
  })

  it('bills a queued charge today; a replayed key is answered without a second call', async () => {
    const { chargeId, subscriptionId } = await aliceCharge()
    expect((await h.call(app, alice, 'GET', `/v1/subscriptions/${subscriptionId}`)).json().allowed_actions).toContain(
      'order_now',
    )
    const headers = key()
    const before = await h.ledgerLength()
    const first = await h.call(app, alice, 'POST', `/v1/charges/${chargeId}/process`, {}, headers)
    expect(first.statusCode).toBe(200)
    expect(first.json()).toMatchObject({ id: chargeId, status: 'success' })
    const again = await h.call(app, alice, 'POST', `/v1/charges/${chargeId}/process`, {}, headers)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.body).toBe(first.body)
    expect(processCalls(await h.upstreamSince(before))).toHaveLength(1)
    const state = await h.sim.state()
    expect(state.charges.find((row) => String(row.id) === chargeId)?.status.toLowerCase()).toBe('success')
    expect(state.orders.some((row) => String(row.charge?.id) === chargeId)).toBe(true)
    // The write invalidated the shopper's records: the billed charge is no longer upcoming.
    const upcoming = (await h.call(app, alice, 'GET', '/v1/charges')).json().charges
    expect(upcoming.map((row: { id: string }) => row.id)).not.toContain(chargeId)
    // A second attempt with a new key: not queued any more.
    const late = await h.call(app, alice, 'POST', `/v1/charges/${chargeId}/process`, {}, key())
    expect(late.statusCode).toBe(404)
  })

  it('lets one of two concurrent attempts (two keys) reach Recharge; the other is ORDER_NOW_IN_PROGRESS', async () => {
    const { chargeId } = await aliceCharge()
    await h.call(app, alice, 'GET', '/v1/charges')
    await h.sim.setFaults([{ match: { method: 'POST', path: '/charges' }, gate: 'order-now' }])
    const before = await h.ledgerLength()
    const first = h.call(app, alice, 'POST', `/v1/charges/${chargeId}/process`, {}, key())
    await until(async () => (await h.sim.heldAt('order-now')) === 1)
    const second = await h.call(app, alice, 'POST', `/v1/charges/${chargeId}/process`, {}, key())
    expect(second.statusCode).toBe(409)
    expect(second.json().code).toBe('ORDER_NOW_IN_PROGRESS')
    await h.sim.openGate('order-now')
    expect((await first).statusCode).toBe(200)
    await h.sim.clearFaults()
    expect(processCalls(await h.upstreamSince(before))).toHaveLength(1)
  })

  it('answers CHARGE_NOT_QUEUED for a skipped charge and for one billed behind the bridge’s back', async () => {
    const { chargeId, subscriptionId } = await aliceCharge()
    await h.call(app, alice, 'GET', '/v1/charges') // cached as queued
    expect((await h.sim.api('POST', `/charges/${chargeId}/process`, {})).status).toBe(200)
    const billed = await h.call(app, alice, 'POST', `/v1/charges/${chargeId}/process`, {}, key())
    expect(billed.statusCode).toBe(422)
    expect(billed.json().code).toBe('CHARGE_NOT_QUEUED')

    await h.reset()
    expect((await h.call(app, alice, 'POST', `/v1/subscriptions/${subscriptionId}/skip`)).statusCode).toBe(200)
    const charges = (await h.call(app, alice, 'GET', '/v1/charges')).json().charges
    const skipped = charges.find((row: { status: string }) => row.status === 'skipped')
    const before = await h.ledgerLength()
    const refused = await h.call(app, alice, 'POST', `/v1/charges/${skipped.id}/process`, {}, key())
    expect(refused.statusCode).toBe(422)
    expect(refused.json().code).toBe('CHARGE_NOT_QUEUED')
    expect(processCalls(await h.upstreamSince(before))).toEqual([])
  })

  it('answers 404 for another shopper’s charge, with no upstream call for it', async () => {
    const charge = String(activeWithQueuedCharge(await h.sim.state(), bobId).charge.id)
    await h.call(app, alice, 'GET', '/v1/charges')
    const before = await h.ledgerLength()
    const response = await h.call(app, alice, 'POST', `/v1/charges/${charge}/process`, {}, key())
    expect(response.statusCode).toBe(404)
    expect((await h.upstreamSince(before)).filter((line) => line.includes(charge))).toEqual([])
  })

  it('answers a charge whose answer was lost as billed, from the charge read back, sent once', async () => {
    const { chargeId } = await aliceCharge()
    await h.sim.setFaults([{ match: { method: 'POST', path: '/charges' }, truncate: true, count: 1 }])
    const before = await h.ledgerLength()
    const response = await h.call(app, alice, 'POST', `/v1/charges/${chargeId}/process`, {}, key())
    expect(response.statusCode).toBe(200)
    expect(response.json().status).toBe('success')
    expect(processCalls(await h.upstreamSince(before))).toHaveLength(1)
  })

  it('says the outcome is unknown when the charge read back is still queued', async () => {
    const { chargeId } = await aliceCharge()
    await h.sim.setFaults([{ match: { method: 'POST', path: '/charges' }, status: 500, count: 1 }])
    const response = await h.call(app, alice, 'POST', `/v1/charges/${chargeId}/process`, {}, key())
    expect(response.statusCode).toBeGreaterThanOrEqual(502)
    expect(response.json().outcome).toBe('unknown')
  })
})
