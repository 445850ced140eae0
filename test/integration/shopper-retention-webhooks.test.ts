import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { NEEDED_TOPICS } from '../../src/webhooks/topics.ts'
import { uniquePrefix } from '../support/redis.ts'
import {
  activeWithQueuedCharge,
  dateInDays,
  type ShopperHarness,
  startShopperHarness,
} from '../support/shopper-harness.ts'
import { until } from '../support/until.ts'

/**
 * Retention changes made in the simulator directly (the merchant admin, the hosted portal, Recharge itself) reach the
 * shopper's next read through their webhooks: subscription/paused records the pause (shown as paused, with resume),
 * and a code applied to a charge or an address (charge/updated, address/updated) drops the cached charges.
 */
const clientSecret = 'sim_whsec_retention_0001'
let h: ShopperHarness
let app: FastifyInstance
let url: string
let alice: string
let aliceId: string

beforeAll(async () => {
  h = await startShopperHarness('rwh', { clientSecret, webhookAutoDeliver: false })
  app = await h.bridge(
    undefined,
    { backgroundWorkers: true, webhooks: { keyPrefix: uniquePrefix('retention-webhooks'), watchdog: false } },
    { RECHARGE_WEBHOOK_SECRET: clientSecret },
  )
  url = await app.listen({ port: 0, host: '127.0.0.1' })
  alice = await h.mint(app, 'alice@example.com')
  aliceId = await h.customerId('alice@example.com')
})

beforeEach(async () => {
  await until(async () => (await app.webhooks.intakeQueue.pending()) === 0)
  await h.reset()
  // Every topic the bridge needs, delivered straight to it (the registration itself is tested elsewhere).
  for (const topic of ['subscription/paused', 'subscription/updated', 'charge/updated', 'address/updated']) {
    expect(NEEDED_TOPICS).toContain(topic)
    const created = await h.sim.api('POST', '/webhooks', {
      address: `${url}/v1/webhooks/recharge?topic=${topic}`,
      topic,
    })
    expect(created.status).toBe(201)
  }
})

afterAll(async () => {
  await h?.close()
})

/** Deliver what the simulator has pending and wait until the bridge has processed it. */
async function deliver(): Promise<string[]> {
  const deliveries = await h.sim.deliverWebhooks()
  expect(deliveries.every((delivery) => delivery.status === 200)).toBe(true)
  await until(async () => (await app.webhooks.intakeQueue.pending()) === 0)
  return deliveries.map((delivery) => delivery.topic)
}

describe('retention webhooks invalidate the shopper’s records', () => {
  it('a pause made in Recharge shows as paused on the next read, and can be resumed here', async () => {
    const { subscription } = activeWithQueuedCharge(await h.sim.state(), aliceId)
    const id = String(subscription.id)
    const read = async () =>
      (await h.call(app, alice, 'GET', '/v1/subscriptions'))
        .json()
        .subscriptions.find((row: { id: string }) => row.id === id)
    expect((await read()).paused_until).toBeNull()
    const until = dateInDays(40)
    const paused = await h.sim.api('POST', `/subscriptions/${id}/set_next_charge_date?pause=true`, { date: until })
    expect(paused.status).toBe(200)
    expect((await read()).paused_until).toBeNull() // cached: the bridge does not know yet
    expect(await deliver()).toContain('subscription/paused')
    const row = await read()
    expect(row.paused_until).toBe(until)
    expect(row.allowed_actions).toContain('resume')
    const resumed = await h.call(app, alice, 'POST', `/v1/subscriptions/${id}/resume`)
    expect(resumed.statusCode).toBe(200)
    expect(resumed.json()).toMatchObject({ paused_until: null, next_charge_date: dateInDays(1) })
  })

  it('a code applied to a charge or an address in Recharge shows in the next read of the charges', async () => {
    const { charge, subscription } = activeWithQueuedCharge(await h.sim.state(), aliceId)
    const chargeId = String(charge.id)
    const total = async () => (await h.call(app, alice, 'GET', `/v1/charges/${chargeId}`)).json().total_price
    const full = await total()
    expect(await total()).toBe(full) // cached

    expect((await h.sim.api('POST', `/charges/${chargeId}/apply_discount`, { discount_code: 'FIVEOFF' })).status).toBe(
      200,
    )
    expect(await deliver()).toContain('charge/updated')
    const discounted = await total()
    expect(Number(discounted)).toBeLessThan(Number(full))

    expect((await h.sim.api('POST', `/charges/${chargeId}/remove_discount`, {})).status).toBe(200)
    await deliver()
    expect(await total()).toBe(full)
    const put = await h.sim.api('PUT', `/addresses/${subscription.address_id}`, { discounts: [{ code: 'WELCOME10' }] })
    expect(put.status).toBe(200)
    expect(await deliver()).toContain('address/updated')
    expect(Number(await total())).toBeLessThan(Number(full))
  })
})
