import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type SimSnapshot, startTestSimulator, type TestSimulator } from '../support/simulator.ts'
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts'

/**
 * The delivery schedule, skipping any upcoming delivery (by charge or by date), addresses, change of address and
 * orders, over HTTP. The clock is frozen so "today" and the projected dates do not move during a test.
 */
let sim: TestSimulator
let hooks: WebhookReceiver

beforeAll(async () => {
  sim = await startTestSimulator({ addressWriteWindowMs: 0, webhookAutoDeliver: false, frozenClock: true })
  hooks = await startWebhookReceiver()
})
afterAll(async () => {
  await sim.close()
  await hooks.close()
})
beforeEach(async () => {
  await sim.reset()
  await fetch(`${sim.url}/__sim/clock`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ frozen: true }),
  })
})

const DAY = 86_400_000

interface Alice {
  state: SimSnapshot
  id: number
  home: SimSnapshot['addresses'][number]
  office: SimSnapshot['addresses'][number]
  /** Morning Ritual, every 2 weeks, next in 5 days, at home (shares that charge with the filters). */
  coffee: SimSnapshot['subscriptions'][number]
  filters: SimSnapshot['subscriptions'][number]
}

async function alice(): Promise<Alice> {
  const state = await sim.state()
  const id = state.customers.find((customer) => customer.email === 'alice@example.com')?.id as number
  const [home, office] = state.addresses.filter((address) => address.customer_id === id).sort((a, b) => a.id - b.id)
  const active = state.subscriptions.filter((sub) => sub.customer_id === id && sub.status === 'active')
  const coffee = active.find((sub) => sub.order_interval_unit === 'week') as Alice['coffee']
  const filters = active.find((sub) => sub.address_id === home?.id && sub.id !== coffee.id) as Alice['coffee']
  return { state, id, home: home as Alice['home'], office: office as Alice['office'], coffee, filters }
}

const plusDays = (date: string, days: number) => new Date(Date.parse(date) + days * DAY).toISOString().slice(0, 10)

// biome-ignore lint/suspicious/noExplicitAny: delivery schedule JSON, asserted field by field
type Delivery = { date: string; orders: { address_id: number; charge_id: number | null; line_items: any[] }[] }

async function schedule(customerId: number, query = ''): Promise<Delivery[]> {
  const { status, body } = await sim.api('GET', `/customers/${customerId}/delivery_schedule${query}`)
  expect(status).toBe(200)
  return body.deliveries
}

function lineOf(deliveries: Delivery[], date: string, subscriptionId: number) {
  const delivery = deliveries.find((candidate) => candidate.date === date)
  for (const order of delivery?.orders ?? []) {
    const line = order.line_items.find((item) => item.subscription_id === subscriptionId)
    if (line) return { order, line }
  }
  return undefined
}

describe('GET /customers/{id}/delivery_schedule', () => {
  it('lists upcoming dates in order: the queued charge first, then projected dates with no charge yet', async () => {
    const { id, coffee, state } = await alice()
    const deliveries = await schedule(id)
    expect(deliveries).toHaveLength(7)
    expect(deliveries.map((delivery) => delivery.date)).toEqual([...deliveries.map((d) => d.date)].sort())
    const next = coffee.next_charge_scheduled_at as string
    const queued = state.charges.find((charge) => charge.status === 'queued' && charge.scheduled_at === next)
    const first = lineOf(deliveries, next, coffee.id)
    expect(first?.order.charge_id).toBe(queued?.id)
    expect(first?.line).toEqual(
      expect.objectContaining({
        is_skippable: true,
        is_skipped: false,
        plan_type: 'subscription',
        quantity: 2,
        unit_price: coffee.price,
      }),
    )
    const projected = lineOf(deliveries, plusDays(next, 14), coffee.id)
    expect(projected?.order.charge_id).toBeNull()
  })

  it('honours delivery_count_future, future_interval and date_max, and refuses malformed values', async () => {
    const { id, state } = await alice()
    const today = state.now.slice(0, 10)
    expect(await schedule(id, '?delivery_count_future=2')).toHaveLength(2)
    const tenDays = await schedule(id, '?future_interval=10')
    expect(tenDays.length).toBeGreaterThan(0)
    expect(tenDays.every((delivery) => delivery.date <= plusDays(today, 10))).toBe(true)
    const capped = await schedule(id, `?date_max=${plusDays(today, 6)}`)
    expect(capped.map((delivery) => delivery.date)).toEqual([plusDays(today, 5)])
    expect(await sim.api('GET', `/customers/${id}/delivery_schedule?delivery_count_future=many`)).toEqual({
      status: 422,
      body: { errors: { delivery_count_future: ['Not a valid integer.'] } },
    })
    expect((await sim.api('GET', `/customers/${id}/delivery_schedule?date_max=soon`)).body).toEqual({
      errors: { date_max: ['Not a valid date.'] },
    })
  })

  it('shows onetimes on their date and prepaid lines as not skippable', async () => {
    const { id, home, state } = await alice()
    const date = plusDays(state.now.slice(0, 10), 8)
    const created = await sim.api('POST', '/onetimes', {
      address_id: home.id,
      external_product_id: { ecommerce: '7100000004' },
      external_variant_id: { ecommerce: '7200000041' },
      next_charge_scheduled_at: date,
      quantity: 1,
    })
    expect(created.status).toBe(201)
    const onetime = lineOf(await schedule(id), date, created.body.onetime.id)
    expect(onetime?.line).toEqual(expect.objectContaining({ plan_type: 'onetime', is_skippable: false }))

    const carol = state.customers.find((customer) => customer.email === 'carol@example.com')?.id as number
    const prepaid = (await schedule(carol, '?delivery_count_future=20'))
      .flatMap((delivery) => delivery.orders.flatMap((order) => order.line_items))
      .filter((line) => line.plan_type === 'prepaid')
    expect(prepaid.length).toBeGreaterThan(0)
    expect(prepaid.every((line) => line.is_skippable === false)).toBe(true)
  })

  it('answers 404 for an unknown customer, and hangs under a hang fault without touching the next request', async () => {
    expect(await sim.api('GET', '/customers/999999999/delivery_schedule')).toEqual({
      status: 404,
      body: { errors: 'Not Found' },
    })
    const { id } = await alice()
    await sim.setFaults([{ match: { path: '^/customers/\\d+/delivery_schedule$' }, hang: true, count: 1 }])
    const hung = fetch(`${sim.url}/customers/${id}/delivery_schedule`, {
      headers: sim.headers,
      signal: AbortSignal.timeout(300),
    })
    await expect(hung).rejects.toThrow()
    expect((await sim.ledger({ path: `/customers/${id}/delivery_schedule` }))[0]?.status).toBeNull()
    expect(await schedule(id)).toHaveLength(7)
  })
})

describe('POST /addresses/{id}/charges/skip (a date with no charge yet)', () => {
  it('parks the subscription on a SKIPPED charge for that date, keeps its next date and emits the webhooks', async () => {
    await hooks.subscribe(sim, ['subscription/skipped', 'charge/created'])
    const { id, home, coffee } = await alice()
    const next = coffee.next_charge_scheduled_at as string
    const afterNext = plusDays(next, 14)
    const { status, body } = await sim.api('POST', `/addresses/${home.id}/charges/skip`, {
      date: afterNext,
      subscription_ids: [coffee.id],
    })
    expect(status).toBe(200)
    expect(body.charge).toEqual(
      expect.objectContaining({
        status: 'skipped',
        scheduled_at: afterNext,
        address_id: home.id,
        line_items: [expect.objectContaining({ purchase_item_id: coffee.id })],
      }),
    )
    const skippedLine = lineOf(await schedule(id), afterNext, coffee.id)
    expect(skippedLine?.line.is_skipped).toBe(true)
    expect(skippedLine?.order.charge_id).toBe(body.charge.id)
    const state = await sim.state()
    expect(state.subscriptions.find((sub) => sub.id === coffee.id)?.next_charge_scheduled_at).toBe(next)
    expect(state.charges.find((charge) => charge.id === body.charge.id)?.status).toBe('skipped')
    const topics = (await hooks.flush(sim)).map((hook) => hook.topic).sort()
    expect(topics).toEqual(['charge/created', 'subscription/skipped'])
  })

  it('bills past the skipped date: after the next charge is paid, the one after the skip is queued', async () => {
    const { home, coffee } = await alice()
    const next = coffee.next_charge_scheduled_at as string
    await sim.api('POST', `/addresses/${home.id}/charges/skip`, {
      date: plusDays(next, 14),
      subscription_ids: [coffee.id],
    })
    await sim.advanceClock(6 * DAY)
    const state = await sim.state()
    expect(state.subscriptions.find((sub) => sub.id === coffee.id)?.next_charge_scheduled_at).toBe(plusDays(next, 28))
  })

  it('skips the queued charge when the date has one', async () => {
    const { home, coffee, filters } = await alice()
    const next = coffee.next_charge_scheduled_at as string
    const { body } = await sim.api('POST', `/addresses/${home.id}/charges/skip`, {
      date: next,
      subscription_ids: [coffee.id],
    })
    expect(body.charge.line_items.map((item: { purchase_item_id: number }) => item.purchase_item_id)).toEqual([
      coffee.id,
    ])
    const state = await sim.state()
    expect(state.subscriptions.find((sub) => sub.id === coffee.id)?.next_charge_scheduled_at).toBe(plusDays(next, 14))
    const queued = state.charges.find((charge) => charge.status === 'queued' && charge.scheduled_at === next)
    expect(queued?.line_items.map((item) => item.purchase_item_id)).toEqual([filters.id])
  })

  it('refuses a date outside the schedule, a past date, missing or foreign subscriptions, an unknown address', async () => {
    const { home, office, coffee, state } = await alice()
    const next = coffee.next_charge_scheduled_at as string
    const skip = (addressId: number, body: unknown) => sim.api('POST', `/addresses/${addressId}/charges/skip`, body)
    const outside = await skip(home.id, { date: plusDays(next, 1), subscription_ids: [coffee.id] })
    expect(outside.status).toBe(422)
    expect(Object.keys(outside.body.errors)).toEqual(['date'])
    const past = await skip(home.id, { date: plusDays(next, -14), subscription_ids: [coffee.id] })
    expect(Object.keys(past.body.errors)).toEqual(['date'])
    expect((await skip(home.id, { date: next })).body).toEqual({
      errors: { subscription_ids: ['Missing data for required field.'] },
    })
    const foreign = await skip(office.id, { date: next, subscription_ids: [coffee.id] })
    expect(Object.keys(foreign.body.errors)).toEqual(['subscription_ids'])
    expect((await skip(999_999_999, { date: next, subscription_ids: [coffee.id] })).status).toBe(404)
    const after = await sim.state()
    expect(after.charges).toEqual(state.charges)
  })

  it('applies the skip when the answer is lost mid-body (truncate fault), so a read-back shows it', async () => {
    const { id, home, coffee } = await alice()
    const afterNext = plusDays(coffee.next_charge_scheduled_at as string, 14)
    await sim.setFaults([{ match: { method: 'POST', path: `/addresses/${home.id}/charges/skip` }, truncate: true }])
    await expect(
      sim.api('POST', `/addresses/${home.id}/charges/skip`, { date: afterNext, subscription_ids: [coffee.id] }),
    ).rejects.toThrow()
    await sim.clearFaults()
    expect(lineOf(await schedule(id), afterNext, coffee.id)?.line.is_skipped).toBe(true)
  })

  it('unskips a date skipped ahead of time: the date is back in the schedule and the next date is unchanged', async () => {
    await hooks.subscribe(sim, ['subscription/unskipped'])
    const { id, home, coffee } = await alice()
    const next = coffee.next_charge_scheduled_at as string
    const afterNext = plusDays(next, 14)
    const skipped = await sim.api('POST', `/addresses/${home.id}/charges/skip`, {
      date: afterNext,
      subscription_ids: [coffee.id],
    })
    const unskipped = await sim.api('POST', `/charges/${skipped.body.charge.id}/unskip`, {
      purchase_item_ids: [coffee.id],
    })
    expect(unskipped.status).toBe(200)
    expect(unskipped.body.charge).toEqual(expect.objectContaining({ status: 'queued', scheduled_at: afterNext }))
    expect(lineOf(await schedule(id), afterNext, coffee.id)?.line.is_skipped).toBe(false)
    const state = await sim.state()
    expect(state.subscriptions.find((sub) => sub.id === coffee.id)?.next_charge_scheduled_at).toBe(next)
    expect((await hooks.flush(sim)).map((hook) => hook.topic)).toEqual(['subscription/unskipped'])
  })
})

describe('charges by id', () => {
  it('answers one charge, 404 for an unknown id, and refuses to skip or unskip a charge in the wrong status', async () => {
    const { state, id } = await alice()
    const paid = state.charges.find((charge) => charge.customer.id === id && charge.status === 'success')
    const queued = state.charges.find((charge) => charge.customer.id === id && charge.status === 'queued')
    expect((await sim.api('GET', `/charges/${paid?.id}`)).body.charge).toEqual(paid)
    expect((await sim.api('GET', '/charges/999999999')).status).toBe(404)
    expect(await sim.api('POST', `/charges/${paid?.id}/skip`, {})).toEqual({
      status: 422,
      body: { errors: { charge: ['Only a queued charge can be skipped.'] } },
    })
    expect((await sim.api('POST', `/charges/${queued?.id}/unskip`, {})).status).toBe(422)
  })
})

describe('addresses and change of address', () => {
  it('creates an address with the default payment method and emits address/created; refuses missing fields', async () => {
    await hooks.subscribe(sim, ['address/created'])
    const { id, state } = await alice()
    const created = await sim.api('POST', '/addresses', {
      customer_id: id,
      address1: '1 Ferry Building',
      city: 'San Francisco',
      province: 'California',
      country_code: 'US',
      zip: '94111',
      first_name: 'Alice',
      last_name: 'Archer',
    })
    expect(created.status).toBe(201)
    const defaultMethod = state.payment_methods.find((method) => method.customer_id === id && method.default)
    expect(created.body.address).toEqual(
      expect.objectContaining({ customer_id: id, payment_method_id: defaultMethod?.id }),
    )
    expect((await sim.state()).addresses.map((address) => address.id)).toContain(created.body.address.id)
    expect((await hooks.flush(sim)).map((hook) => hook.topic)).toEqual(['address/created'])
    expect((await sim.api('POST', '/addresses', { customer_id: id })).status).toBe(422)
  })

  it("moves a subscription to another of the customer's addresses, rebuilding charges; refuses a foreign address", async () => {
    await hooks.subscribe(sim, ['subscription/updated'])
    const { state, coffee, office } = await alice()
    const moved = await sim.api('POST', `/subscriptions/${coffee.id}/change_address`, { address_id: office.id })
    expect(moved.status).toBe(200)
    expect(moved.body.subscription.address_id).toBe(office.id)
    const after = await sim.state()
    const carrying = after.charges.find(
      (charge) => charge.status === 'queued' && charge.line_items.some((item) => item.purchase_item_id === coffee.id),
    )
    expect(carrying?.address_id).toBe(office.id)
    expect((await hooks.flush(sim)).map((hook) => hook.topic)).toContain('subscription/updated')

    const bob = state.customers.find((customer) => customer.email === 'bob@example.com')?.id
    const bobsAddress = state.addresses.find((address) => address.customer_id === bob)
    const refused = await sim.api('POST', `/subscriptions/${coffee.id}/change_address`, { address_id: bobsAddress?.id })
    expect(refused.status).toBe(422)
  })
})

describe('orders', () => {
  it("pages through a customer's orders with cursors and answers one order by id", async () => {
    const { id, state } = await alice()
    const expected = state.orders.filter((order) => order.customer.id === id).map((order) => order.id)
    expect(expected.length).toBeGreaterThan(2)
    const seen: number[] = []
    let page = await sim.api('GET', `/orders?customer_id=${id}&limit=2`)
    for (;;) {
      seen.push(...page.body.orders.map((order: { id: number }) => order.id))
      if (!page.body.next_cursor) break
      page = await sim.api('GET', `/orders?limit=2&cursor=${page.body.next_cursor}`)
    }
    expect(seen).toEqual([...expected].sort((a, b) => b - a))
    const mixed = await sim.api('GET', `/orders?customer_id=${id}&cursor=${'x'.repeat(8)}`)
    expect(mixed.status).toBe(422)
    expect((await sim.api('GET', `/orders/${expected[0]}`)).body.order.id).toBe(expected[0])
    expect(await sim.api('GET', '/orders/999999999')).toEqual({ status: 404, body: { errors: 'Not Found' } })
  })
})
