import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

let sim: TestSimulator

beforeAll(async () => {
  sim = await startTestSimulator({ addressWriteWindowMs: 0, webhookAutoDeliver: false })
})
afterAll(async () => {
  await sim.close()
})
beforeEach(async () => {
  await sim.reset()
})

function api(method: string, path: string, body?: unknown, target: TestSimulator = sim) {
  return target.api(method, path, body)
}

const MONTHLY = {
  title: 'Every 3 weeks',
  type: 'subscription',
  discount_amount: '12.5',
  discount_type: 'percentage',
  subscription_preferences: { charge_interval_frequency: 3, order_interval_frequency: 3, interval_unit: 'week' },
}

describe('seeded catalog', () => {
  it('has ≥ 5 products with variants, prices and subscription, prepaid and onetime plans', async () => {
    const products = (await api('GET', '/products?limit=250')).body.products
    expect(products.length).toBeGreaterThanOrEqual(5)
    for (const product of products) {
      expect(product).toMatchObject({
        external_product_id: expect.any(String),
        title: expect.any(String),
        description: expect.any(String),
      })
      expect(product.images[0].original).toMatch(/^https:\/\//)
      expect(product.variants[0]).toMatchObject({
        external_variant_id: expect.any(String),
        title: expect.any(String),
        option_values: [{ label: expect.any(String) }],
        prices: { unit_price: expect.stringMatching(/^\d+\.\d{2}$/) },
      })
    }
    const plans = (await api('GET', '/plans?limit=250')).body.plans
    expect(new Set(plans.map((plan: { type: string }) => plan.type))).toEqual(
      new Set(['subscription', 'prepaid', 'onetime']),
    )
    const coffee = (await api('GET', '/plans?external_product_id=7100000001')).body.plans
    const intervals = coffee
      .filter((plan: { type: string }) => plan.type === 'subscription')
      .map(
        (plan: { subscription_preferences: { interval_unit: string; order_interval_frequency: number } }) =>
          `${plan.subscription_preferences.order_interval_frequency} ${plan.subscription_preferences.interval_unit}`,
      )
    expect(intervals.length).toBeGreaterThanOrEqual(3)
    expect(coffee.find((plan: { title: string }) => plan.title === 'Every 2 weeks')).toMatchObject({
      discount_type: 'percentage',
      discount_amount: '10.00',
    })
  })

  it('is deterministic per SIM_SEED', async () => {
    const same = await startTestSimulator({ seed: 'recharge-bridge' })
    const other = await startTestSimulator({ seed: 'something-else' })
    try {
      const hashes = async (target: TestSimulator) =>
        (await target.state()).customers.map((customer) => [customer.id, customer.email, customer.hash])
      expect(await hashes(same)).toEqual(await hashes(sim))
      expect(await hashes(other)).not.toEqual(await hashes(sim))
    } finally {
      await same.close()
      await other.close()
    }
  })

  it('seeds alice and bob with addresses, active and queued subscriptions, past charges and orders', async () => {
    for (const email of ['alice@example.com', 'bob@example.com']) {
      const customer = (await api('GET', `/customers?email=${email}`)).body.customers[0]
      expect(customer.external_customer_id.ecommerce).toEqual(expect.any(String))
      expect((await api('GET', `/addresses?customer_id=${customer.id}`)).body.addresses.length).toBeGreaterThanOrEqual(
        1,
      )
      expect(
        (await api('GET', `/subscriptions?customer_id=${customer.id}&status=active`)).body.subscriptions.length,
      ).toBeGreaterThanOrEqual(2)
      expect(
        (await api('GET', `/charges?customer_id=${customer.id}&status=queued`)).body.charges.length,
      ).toBeGreaterThanOrEqual(1)
      expect(
        (await api('GET', `/charges?customer_id=${customer.id}&status=success`)).body.charges.length,
      ).toBeGreaterThanOrEqual(2)
      expect((await api('GET', `/orders?customer_id=${customer.id}`)).body.orders.length).toBeGreaterThanOrEqual(2)
      const schedule = (await api('GET', `/customers/${customer.id}/delivery_schedule`)).body
      expect(schedule.deliveries.length).toBeGreaterThan(0)
    }
  })
})

describe('products and plans API', () => {
  it('creates, updates and deletes plans, emitting plan webhooks', async () => {
    const created = await api('POST', '/plans', { ...MONTHLY, external_product_id: { ecommerce: '7100000002' } })
    expect(created.status).toBe(201)
    expect(created.body.plan).toMatchObject({
      title: 'Every 3 weeks',
      discount_amount: '12.50',
      external_product_id: { ecommerce: '7100000002' },
    })
    const id = created.body.plan.id
    expect((await api('PUT', `/plans/${id}`, { title: 'Every three weeks' })).body.plan.title).toBe('Every three weeks')
    expect((await api('DELETE', `/plans/${id}`)).status).toBe(204)
    expect((await api('GET', `/plans/${id}`)).status).toBe(404)
    expect((await api('POST', '/plans', { ...MONTHLY, external_product_id: { ecommerce: 'nope' } })).status).toBe(422)
  })

  it('bulk-creates, bulk-updates and bulk-deletes plans of one product, all or nothing', async () => {
    const path = '/products/7100000003/plans-bulk'
    const created = await api('POST', path, { plans: [MONTHLY, { title: 'Once', type: 'onetime' }] })
    expect(created.status).toBe(201)
    const ids = created.body.plans.map((plan: { id: number }) => plan.id)
    const before = (await sim.state()).plans.length
    const invalid = await api('POST', path, { plans: [MONTHLY, { title: 'broken', type: 'weekly' }] })
    expect(invalid.status).toBe(422)
    expect((await sim.state()).plans.length).toBe(before)

    const updated = await api('PUT', path, { plans: [{ id: ids[0], discount_amount: '20' }] })
    expect(updated.body.plans[0].discount_amount).toBe('20.00')
    expect((await api('DELETE', path, { plans: ids.map((id: number) => ({ id })) })).status).toBe(204)
    expect((await sim.state()).plans.length).toBe(before - 2)
  })

  it('creates and updates a product keyed by external_product_id', async () => {
    const created = await api('POST', '/products', {
      external_product_id: '9900000001',
      title: 'Gift Card',
      variants: [
        { external_variant_id: '9900000011', title: '25', prices: { unit_price: '25', compare_at_price: null } },
      ],
    })
    expect(created.status).toBe(201)
    expect(created.body.product.variants[0].prices).toEqual({ unit_price: '25.00', compare_at_price: null })
    expect((await api('PUT', '/products/9900000001', { title: 'Gift card' })).body.product.title).toBe('Gift card')
    expect((await api('GET', '/products/9900000001')).body.product.title).toBe('Gift card')
    expect((await api('DELETE', '/products/9900000001')).status).toBe(204)
    expect((await api('GET', '/products/9900000001')).status).toBe(404)
  })

  it('runs an async batch of bulk_plans_create tasks', async () => {
    const batch = (await api('POST', '/async_batches', { batch_type: 'bulk_plans_create' })).body.async_batch
    expect(batch.status).toBe('not_started')
    const tasks = await api('POST', `/async_batches/${batch.id}/tasks`, {
      tasks: [
        { body: { external_product_id: '7100000005', plans: [MONTHLY] } },
        { body: { external_product_id: 'missing', plans: [MONTHLY] } },
      ],
    })
    expect(tasks.status).toBe(201)
    expect((await api('POST', `/async_batches/${batch.id}/process`)).body.async_batch.status).toBe('processing')
    let current = batch
    while (current.status !== 'completed') current = (await api('GET', `/async_batches/${batch.id}`)).body.async_batch
    expect(current).toMatchObject({ total_task_count: 2, success_task_count: 1, fail_task_count: 1 })
    const results = (await api('GET', `/async_batches/${batch.id}/tasks`)).body.async_batch_tasks
    expect(results.map((task: { result: { status_code: number } }) => task.result.status_code)).toEqual([201, 422])
    expect((await api('POST', `/async_batches/${batch.id}/process`)).status).toBe(422)
  })
})

describe('onetimes, store and token information', () => {
  it('adds a onetime to the address’s queued charge for that date', async () => {
    const state = await sim.state()
    const queued = state.charges.find((charge) => charge.status === 'queued') as {
      address_id: number
      scheduled_at: string
      id: number
    }
    const created = await api('POST', '/onetimes', {
      address_id: queued.address_id,
      external_product_id: { ecommerce: '7100000004' },
      external_variant_id: { ecommerce: '7200000042' },
      quantity: 1,
      next_charge_scheduled_at: queued.scheduled_at,
    })
    expect(created.status).toBe(201)
    const charge = (await api('GET', `/charges/${queued.id}`)).body.charge
    expect(
      charge.line_items.map((item: { purchase_item_type: string; purchase_item_id: number }) => [
        item.purchase_item_type,
        item.purchase_item_id,
      ]),
    ).toContainEqual(['onetime', created.body.onetime.id])
    expect((await api('DELETE', `/onetimes/${created.body.onetime.id}`)).status).toBe(204)
  })

  it('describes the store and the calling token without revealing it', async () => {
    const store = (await api('GET', '/store')).body.store
    expect(store).toMatchObject({ currency: 'USD', subdomain: sim.storeSubdomain, name: expect.any(String) })
    const info = await api('GET', '/token_information')
    expect(info.body.token_information.scopes).toContain('read_subscriptions')
    expect(JSON.stringify(info.body)).not.toContain(sim.apiToken)
  })
})
