import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type * as Sim from '../../src/simulator/types.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'
import { startWebhookSink } from '../support/webhook-sink.ts'

let sim: TestSimulator
let sink: Awaited<ReturnType<typeof startWebhookSink>>

beforeAll(async () => {
  sim = await startTestSimulator({ addressWriteWindowMs: 0, webhookAutoDeliver: false, bucketSize: 1000 })
  sink = await startWebhookSink(sim)
})
afterAll(async () => {
  await sim.close()
  await sink.close()
})
beforeEach(async () => {
  await sim.reset()
})

/** The earliest queued charge holding exactly one subscription on a day or week interval, with that subscription. */
async function queuedCharge() {
  const state = await sim.state()
  const unitOf = (charge: Sim.Charge) =>
    state.subscriptions.find((sub) => sub.id === charge.line_items[0]?.purchase_item_id)?.order_interval_unit
  const charge = state.charges
    .filter((c) => c.status === 'queued' && c.line_items.length === 1 && unitOf(c) !== 'month')
    .sort((a, b) => a.scheduled_at.localeCompare(b.scheduled_at))[0] as Sim.Charge
  const subscription = state.subscriptions.find(
    (sub) => sub.id === charge.line_items[0]?.purchase_item_id,
  ) as Sim.Subscription
  return { state, charge, subscription, today: state.now.slice(0, 10) }
}

function stepFrom(date: string, subscription: Sim.Subscription): string {
  const days = subscription.charge_interval_frequency * (subscription.order_interval_unit === 'week' ? 7 : 1)
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10)
}

describe('POST /charges/{id}/process', () => {
  it('bills the queued charge today: order created, next charge queued one interval from today, webhooks sent', async () => {
    const { charge, subscription, today } = await queuedCharge()
    await sink.subscribe(['charge/paid', 'order/created', 'subscription/updated', 'charge/created'])
    const processed = await sim.api('POST', `/charges/${charge.id}/process`)
    expect(processed.status).toBe(200)
    expect(processed.body.charge).toMatchObject({
      id: charge.id,
      status: 'success',
      orders_count: 1,
      total_price: charge.total_price,
      external_order_id: { ecommerce: expect.any(String) },
    })
    expect(processed.body.charge.processed_at).toMatch(new RegExp(`^${today}`))

    const state = await sim.state()
    const order = state.orders.find((candidate) => candidate.charge.id === charge.id) as Sim.Order
    expect(order).toMatchObject({ status: 'success', total_price: charge.total_price, address_id: charge.address_id })
    expect(order.line_items.map((item) => item.purchase_item_id)).toEqual([subscription.id])
    const next = stepFrom(today, subscription)
    expect(state.subscriptions.find((sub) => sub.id === subscription.id)?.next_charge_scheduled_at).toBe(next)
    expect(
      state.charges
        .filter(
          (candidate) =>
            candidate.status === 'queued' &&
            candidate.line_items.some((item) => item.purchase_item_id === subscription.id),
        )
        .map((candidate) => candidate.scheduled_at),
    ).toEqual([next])

    const hooks = await sink.collect()
    expect(hooks.find((hook) => hook.topic === 'charge/paid')?.body.charge).toMatchObject({
      id: charge.id,
      status: 'success',
    })
    expect(hooks.find((hook) => hook.topic === 'order/created')?.body.order.id).toBe(order.id)
    expect(hooks.some((hook) => hook.topic === 'charge/created')).toBe(true)
    expect(
      hooks.find((hook) => hook.topic === 'subscription/updated')?.body.subscription.next_charge_scheduled_at,
    ).toBe(next)
  })

  it('uses up the onetimes on the charge', async () => {
    const { state, charge } = await queuedCharge()
    const variant = state.products.find((p) => p.external_product_id === '7100000004')
      ?.variants[0] as Sim.ProductVariant
    const onetime = (
      await sim.api('POST', '/onetimes', {
        address_id: charge.address_id,
        external_variant_id: { ecommerce: variant.external_variant_id },
        quantity: 1,
        next_charge_scheduled_at: charge.scheduled_at,
      })
    ).body.onetime
    await sim.api('POST', `/charges/${charge.id}/process`)
    const after = await sim.state()
    expect(after.onetimes).toEqual([])
    const order = after.orders.find((candidate) => candidate.charge.id === charge.id) as Sim.Order
    expect(order.line_items.map((item) => item.purchase_item_id)).toContain(onetime.id)
  })

  it('answers 422 for a charge that is no longer queued (processed or skipped) and 404 for an unknown one', async () => {
    const { state, charge } = await queuedCharge()
    await sim.api('POST', `/charges/${charge.id}/process`)
    const again = await sim.api('POST', `/charges/${charge.id}/process`)
    expect(again).toEqual({ status: 422, body: { errors: { charge: ['Only a queued charge can be processed.'] } } })
    expect((await sim.state()).orders.filter((order) => order.charge.id === charge.id)).toHaveLength(1)

    const other = state.charges.find((c) => c.status === 'queued' && c.id !== charge.id) as Sim.Charge
    await sim.api('POST', `/charges/${other.id}/skip`)
    expect((await sim.api('POST', `/charges/${other.id}/process`)).status).toBe(422)
    expect(await sim.api('POST', '/charges/1/process')).toEqual({ status: 404, body: { errors: 'Not Found' } })
  })

  it('hang: the process request is never answered and nothing is billed', async () => {
    const { charge } = await queuedCharge()
    await sim.setFaults([{ match: { path: '^/charges/\\d+/process$' }, hang: true, count: 1 }])
    const abort = new AbortController()
    const pending = fetch(`${sim.url}/charges/${charge.id}/process`, {
      method: 'POST',
      headers: sim.headers,
      signal: abort.signal,
    })
    await expect.poll(async () => (await sim.ledger({ path: `/charges/${charge.id}/process` })).length).toBe(1)
    abort.abort()
    await expect(pending).rejects.toThrow()
    const state = await sim.state()
    expect(state.charges.find((candidate) => candidate.id === charge.id)?.status).toBe('queued')
    expect(state.orders.some((order) => order.charge.id === charge.id)).toBe(false)
  })

  it('truncate: the charge is billed but the answer is cut (a lost answer)', async () => {
    const { charge } = await queuedCharge()
    await sim.setFaults([{ match: { method: 'POST', path: '^/charges/\\d+/process$' }, truncate: true, count: 1 }])
    const response = await fetch(`${sim.url}/charges/${charge.id}/process`, { method: 'POST', headers: sim.headers })
    await expect(response.text()).rejects.toThrow()
    expect((await sim.api('GET', `/charges/${charge.id}`)).body.charge.status).toBe('success')
  })
})

describe('fault rules on the new paths', () => {
  it.each([
    ['GET', '/retention_strategies'],
    ['GET', '/discounts'],
    ['GET', '/onetimes'],
  ])('%s %s answers the injected status and then recovers', async (method, path) => {
    await sim.setFaults([{ match: { method, path }, status: 503, count: 1 }])
    expect((await sim.api(method, path)).status).toBe(503)
    expect((await sim.api(method, path)).status).toBe(200)
  })

  it('a status fault on apply_discount leaves the charge untouched', async () => {
    const { charge } = await queuedCharge()
    await sim.setFaults([{ match: { path: '^/charges/\\d+/apply_discount$' }, status: 500, count: 1 }])
    expect((await sim.api('POST', `/charges/${charge.id}/apply_discount`, { discount_code: 'FIVEOFF' })).status).toBe(
      500,
    )
    expect((await sim.api('GET', `/charges/${charge.id}`)).body.charge.discounts).toEqual([])
  })
})
