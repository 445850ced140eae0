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

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10)
}

/** An address with an active subscription, its earliest queued charge, and a catalog variant to add. */
async function fixture() {
  const state = await sim.state()
  const charge = state.charges
    .filter((candidate) => candidate.status === 'queued')
    .sort((a, b) => a.scheduled_at.localeCompare(b.scheduled_at))[0] as Sim.Charge
  const product = state.products.find((candidate) => candidate.external_product_id === '7100000004') as Sim.Product
  const variant = product.variants[0] as Sim.ProductVariant
  const address = state.addresses.find((candidate) => candidate.id === charge.address_id) as Sim.Address
  const customerIds = new Set(state.subscriptions.filter((sub) => sub.status === 'active').map((s) => s.address_id))
  const idle = state.addresses.find((candidate) => !customerIds.has(candidate.id)) as Sim.Address
  return { state, charge, product, variant, address, idle, today: state.now.slice(0, 10) }
}

function createBody(f: Awaited<ReturnType<typeof fixture>>, extra: Record<string, unknown> = {}) {
  return {
    address_id: f.address.id,
    external_product_id: { ecommerce: f.product.external_product_id },
    external_variant_id: { ecommerce: f.variant.external_variant_id },
    quantity: 2,
    next_charge_scheduled_at: f.charge.scheduled_at,
    ...extra,
  }
}

describe('POST /onetimes', () => {
  it('creates the onetime at catalog price as a line of the queued charge that day and emits onetime/created', async () => {
    const f = await fixture()
    await sink.subscribe(['onetime/created', 'charge/updated'])
    const created = await sim.api('POST', '/onetimes', { onetime: createBody(f) })
    expect(created.status).toBe(201)
    const onetime = created.body.onetime
    expect(onetime).toMatchObject({
      address_id: f.address.id,
      customer_id: f.address.customer_id,
      external_variant_id: { ecommerce: f.variant.external_variant_id },
      next_charge_scheduled_at: f.charge.scheduled_at,
      price: f.variant.prices.unit_price,
      product_title: f.product.title,
      quantity: 2,
    })

    const state = await sim.state()
    expect(state.onetimes.map((candidate) => candidate.id)).toEqual([onetime.id])
    const charge = state.charges.find((candidate) => candidate.id === f.charge.id) as Sim.Charge
    expect(charge.line_items.find((item) => item.purchase_item_id === onetime.id)).toMatchObject({
      purchase_item_type: 'onetime',
      quantity: 2,
      unit_price: f.variant.prices.unit_price,
    })
    const cents = (money: string) => Math.round(Number(money) * 100)
    expect(cents(charge.total_price)).toBe(cents(f.charge.total_price) + 2 * cents(f.variant.prices.unit_price))

    const hooks = await sink.collect()
    expect(hooks.find((hook) => hook.topic === 'onetime/created')?.body.onetime.id).toBe(onetime.id)
    expect(hooks.find((hook) => hook.topic === 'charge/updated')?.body.charge.id).toBe(f.charge.id)
  })

  it('add_to_next_charge lands on the address next queued charge; the product id and the envelope are optional', async () => {
    const f = await fixture()
    const { next_charge_scheduled_at: _date, external_product_id: _product, ...body } = createBody(f)
    const created = await sim.api('POST', '/onetimes', { ...body, add_to_next_charge: true, price: '1.50' })
    expect(created.status).toBe(201)
    expect(created.body.onetime).toMatchObject({ next_charge_scheduled_at: f.charge.scheduled_at, price: '1.50' })
    expect(created.body.onetime.external_product_id).toEqual({ ecommerce: f.product.external_product_id })
  })

  it('a date with no queued charge yet queues a new charge holding only the onetime', async () => {
    const f = await fixture()
    const date = addDays(f.charge.scheduled_at, 1)
    const created = await sim.api('POST', '/onetimes', createBody(f, { next_charge_scheduled_at: date }))
    const state = await sim.state()
    const charge = state.charges.find((c) => c.address_id === f.address.id && c.scheduled_at === date) as Sim.Charge
    expect(charge.status).toBe('queued')
    expect(charge.line_items.map((item) => item.purchase_item_id)).toEqual([created.body.onetime.id])
  })

  it('refuses an address without an active subscription with 422 and creates nothing', async () => {
    const f = await fixture()
    const refused = await sim.api('POST', '/onetimes', createBody(f, { address_id: f.idle.id }))
    expect(refused).toEqual({
      status: 422,
      body: { errors: { address_id: ['Cannot add a onetime to an address without an active subscription.'] } },
    })
    expect((await sim.state()).onetimes).toEqual([])
  })

  it('refuses once the address last subscription is cancelled', async () => {
    const f = await fixture()
    for (const subscription of f.state.subscriptions.filter((sub) => sub.address_id === f.address.id)) {
      await sim.api('POST', `/subscriptions/${subscription.id}/cancel`, { cancellation_reason: 'moving' })
    }
    const refused = await sim.api('POST', '/onetimes', createBody(f, { next_charge_scheduled_at: addDays(f.today, 5) }))
    expect(refused.status).toBe(422)
    expect(refused.body.errors.address_id).toHaveLength(1)
  })

  it('answers the 422 shapes for missing fields, an unknown address, a past date and an unknown variant', async () => {
    const f = await fixture()
    const missing = await sim.api('POST', '/onetimes', { onetime: { address_id: f.address.id } })
    const sentence = 'external_variant_id, quantity, next_charge_scheduled_at are required fields.'
    expect(missing).toEqual({ status: 422, body: { errors: { _schema: [sentence, sentence] } } })
    expect((await sim.api('POST', '/onetimes', createBody(f, { address_id: 1 }))).body).toEqual({
      errors: { address_id: ['Address not found.'] },
    })
    expect((await sim.api('POST', '/onetimes', createBody(f, { next_charge_scheduled_at: f.today }))).body).toEqual({
      errors: { next_charge_scheduled_at: ['date is not far enough in the future'] },
    })
    const unknown = await sim.api('POST', '/onetimes', createBody(f, { external_variant_id: { ecommerce: '1' } }))
    expect(unknown).toEqual({ status: 422, body: { errors: { external_variant_id: ['Variant not found.'] } } })
    expect((await sim.api('POST', '/onetimes', createBody(f, { quantity: 0 }))).body).toEqual({
      errors: { quantity: ['Must be greater than or equal to 1.'] },
    })
    expect((await sim.state()).onetimes).toEqual([])
  })

  it('applies the write and cuts the answer under a truncate fault (a lost answer)', async () => {
    const f = await fixture()
    await sim.setFaults([{ match: { method: 'POST', path: '/onetimes' }, truncate: true, count: 1 }])
    const response = await fetch(`${sim.url}/onetimes`, {
      method: 'POST',
      headers: { ...sim.headers, 'content-type': 'application/json' },
      body: JSON.stringify(createBody(f)),
    })
    await expect(response.text()).rejects.toThrow()
    expect((await sim.state()).onetimes).toHaveLength(1)
  })
})

describe('GET /onetimes', () => {
  it('lists newest first in a cursor envelope, filtered by customer_id and address_id, and reads one by id', async () => {
    const f = await fixture()
    const first = (await sim.api('POST', '/onetimes', createBody(f))).body.onetime
    const second = (await sim.api('POST', '/onetimes', createBody(f, { quantity: 1 }))).body.onetime

    const all = await sim.api('GET', '/onetimes')
    expect(all.body).toMatchObject({ next_cursor: null, previous_cursor: null })
    expect(all.body.onetimes.map((o: { id: number }) => o.id)).toEqual([second.id, first.id])
    const paged = await sim.api('GET', '/onetimes?limit=1')
    expect(paged.body.onetimes.map((o: { id: number }) => o.id)).toEqual([second.id])
    const next = await sim.api('GET', `/onetimes?limit=1&cursor=${paged.body.next_cursor}`)
    expect(next.body.onetimes.map((o: { id: number }) => o.id)).toEqual([first.id])

    expect((await sim.api('GET', `/onetimes?customer_id=${f.address.customer_id}`)).body.onetimes).toHaveLength(2)
    expect((await sim.api('GET', `/onetimes?address_id=${f.idle.id}`)).body.onetimes).toEqual([])
    expect((await sim.api('GET', '/onetimes?customer_id=abc')).status).toBe(422)

    expect((await sim.api('GET', `/onetimes/${first.id}`)).body.onetime).toEqual(first)
    expect(await sim.api('GET', '/onetimes/1')).toEqual({ status: 404, body: { errors: 'Not Found' } })
  })
})

describe('PUT and DELETE /onetimes/{id}', () => {
  it('moves a onetime to another date and quantity, re-pricing both charges, and emits onetime/updated', async () => {
    const f = await fixture()
    const onetime = (await sim.api('POST', '/onetimes', createBody(f))).body.onetime
    await sink.subscribe(['onetime/updated'])
    const later = addDays(f.charge.scheduled_at, 2)
    const updated = await sim.api('PUT', `/onetimes/${onetime.id}`, {
      onetime: { quantity: 3, next_charge_scheduled_at: later },
    })
    expect(updated.status).toBe(200)
    expect(updated.body.onetime).toMatchObject({ id: onetime.id, quantity: 3, next_charge_scheduled_at: later })

    const state = await sim.state()
    const original = state.charges.find((charge) => charge.id === f.charge.id) as Sim.Charge
    expect(original.line_items.some((item) => item.purchase_item_id === onetime.id)).toBe(false)
    expect(original.total_price).toBe(f.charge.total_price)
    const moved = state.charges.find((c) => c.address_id === f.address.id && c.scheduled_at === later) as Sim.Charge
    expect(moved.line_items.find((item) => item.purchase_item_id === onetime.id)?.quantity).toBe(3)
    expect((await sink.collect()).map((hook) => hook.topic)).toEqual(['onetime/updated'])
  })

  it('refuses a bad price or quantity without changing anything', async () => {
    const f = await fixture()
    const onetime = (await sim.api('POST', '/onetimes', createBody(f))).body.onetime
    const badPrice = await sim.api('PUT', `/onetimes/${onetime.id}`, { quantity: 5, price: 'free' })
    expect(badPrice).toEqual({ status: 422, body: { errors: { price: ['Not a valid number.'] } } })
    expect((await sim.api('PUT', `/onetimes/${onetime.id}`, { quantity: -1 })).status).toBe(422)
    expect((await sim.api('GET', `/onetimes/${onetime.id}`)).body.onetime.quantity).toBe(2)
    expect((await sim.api('PUT', '/onetimes/1', { quantity: 1 })).status).toBe(404)
  })

  it('deletes: 204, the line leaves the charge, onetime/deleted carries the id, then 404', async () => {
    const f = await fixture()
    const onetime = (await sim.api('POST', '/onetimes', createBody(f))).body.onetime
    await sink.subscribe(['onetime/deleted'])
    const deleted = await sim.api('DELETE', `/onetimes/${onetime.id}`)
    expect(deleted).toEqual({ status: 204, body: null })
    const state = await sim.state()
    expect(state.onetimes).toEqual([])
    expect(state.charges.find((charge) => charge.id === f.charge.id)?.total_price).toBe(f.charge.total_price)
    expect(await sink.collect()).toEqual([{ topic: 'onetime/deleted', body: { onetime: { id: onetime.id } } }])
    expect((await sim.api('DELETE', `/onetimes/${onetime.id}`)).status).toBe(404)
  })
})
