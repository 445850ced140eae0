import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { activeWithQueuedCharge, type ShopperHarness, startShopperHarness } from '../support/shopper-harness.ts'
import { until } from '../support/until.ts'

/**
 * Attack: bill a shopper's next delivery twice with "order now", by sending the request to two replicas at once with
 * two different Idempotency-Keys (a double click, two tabs, a script). The Idempotency-Key alone cannot stop it (the
 * keys differ); the per-charge lock in Redis does: one attempt reaches Recharge, the other is ORDER_NOW_IN_PROGRESS.
 */
let h: ShopperHarness
let first: FastifyInstance
let second: FastifyInstance
let tokens: [string, string]
let aliceId: string

beforeAll(async () => {
  h = await startShopperHarness('dbl')
  // Two replicas of one deployment: same policy, same Redis key names.
  const shared = { shopper: { namespace: `${h.namespace}replicas-` } }
  first = await h.bridge({ actions: { order_now: true } }, shared)
  second = await h.bridge({ actions: { order_now: true } }, shared)
  tokens = [await h.mint(first, 'alice@example.com'), await h.mint(second, 'alice@example.com')]
  aliceId = await h.customerId('alice@example.com')
})

afterAll(async () => {
  await h?.close()
})

describe('order now on two replicas at once', () => {
  it('lets one attempt reach Recharge; the other replica answers ORDER_NOW_IN_PROGRESS without a call', async () => {
    const charge = String(activeWithQueuedCharge(await h.sim.state(), aliceId).charge.id)
    for (const [index, app] of [first, second].entries()) await h.call(app, tokens[index] ?? '', 'GET', '/v1/charges')
    await h.sim.setFaults([{ match: { method: 'POST', path: '/charges' }, gate: 'double' }])
    const before = await h.ledgerLength()
    const url = `/v1/charges/${charge}/process`
    const held = h.call(first, tokens[0], 'POST', url, {}, { 'idempotency-key': randomUUID() })
    await until(async () => (await h.sim.heldAt('double')) === 1)
    const other = await h.call(second, tokens[1], 'POST', url, {}, { 'idempotency-key': randomUUID() })
    expect(other.statusCode).toBe(409)
    expect(other.json().code).toBe('ORDER_NOW_IN_PROGRESS')
    await h.sim.openGate('double')
    expect((await held).statusCode).toBe(200)
    await h.sim.clearFaults()
    expect((await h.upstreamSince(before)).filter((line) => line.endsWith('/process'))).toHaveLength(1)
    const orders = (await h.sim.state()).orders.filter((order) => String(order.charge?.id) === charge)
    expect(orders).toHaveLength(1)
  })
})
