import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

let sim: TestSimulator

beforeAll(async () => {
  sim = await startTestSimulator({ addressWriteWindowMs: 0 })
})
afterAll(async () => {
  await sim.close()
})
beforeEach(async () => {
  await sim.reset()
})

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = sim.headers) {
  const response = await fetch(`${sim.url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  return {
    status: response.status,
    headers: response.headers,
    // biome-ignore lint/suspicious/noExplicitAny: bodies are Recharge JSON asserted field by field
    body: text ? (JSON.parse(text) as Record<string, any>) : null,
  }
}

describe('simulator API rules', () => {
  it('rejects a missing or wrong token with 401 and never records the token', async () => {
    const missing = await call('GET', '/store', undefined, {})
    const wrong = await call('GET', '/store', undefined, { 'x-recharge-access-token': 'sk_wrong' })
    expect(missing.status).toBe(401)
    expect(wrong.status).toBe(401)
    expect(JSON.stringify(await sim.ledger())).not.toContain(sim.apiToken)
  })

  it('answers 426 to an unknown API version and accepts a missing one (store default)', async () => {
    expect((await call('GET', '/store', undefined, { ...sim.headers, 'x-recharge-version': '1999-01' })).status).toBe(
      426,
    )
    expect((await call('GET', '/store', undefined, { 'x-recharge-access-token': sim.apiToken })).status).toBe(200)
  })

  it('sends X-Recharge-Limit on every response', async () => {
    const first = await call('GET', '/store')
    const second = await call('GET', '/customers/1')
    expect(first.headers.get('x-recharge-limit')).toBe('1/40')
    expect(second.status).toBe(404)
    expect(second.headers.get('x-recharge-limit')).toBe('2/40')
  })

  it('finds the demo shoppers by email and by external id', async () => {
    const byEmail = await call('GET', '/customers?email=alice@example.com')
    const alice = byEmail.body?.customers[0]
    expect(alice.email).toBe('alice@example.com')
    expect(alice.hash).toMatch(/^[0-9a-f]{30}$/)
    const byExternal = await call('GET', `/customers?external_customer_id=${alice.external_customer_id.ecommerce}`)
    expect(byExternal.body?.customers.map((customer: { id: number }) => customer.id)).toEqual([alice.id])
  })

  it('records every request in the ledger with status, query and idempotency key', async () => {
    await call('GET', '/subscriptions?limit=2')
    await call('POST', '/subscriptions/1/cancel', {}, { ...sim.headers, 'idempotency-key': 'k-1' })
    const entries = await sim.ledger()
    expect(entries).toEqual([
      expect.objectContaining({ method: 'GET', path: '/subscriptions', query: { limit: '2' }, status: 200 }),
      expect.objectContaining({ method: 'POST', path: '/subscriptions/1/cancel', status: 404, idempotencyKey: 'k-1' }),
    ])
  })
})

describe('subscription state', () => {
  async function aliceActiveSubscription() {
    const customer = (await call('GET', '/customers?email=alice@example.com')).body?.customers[0]
    const list = await call('GET', `/subscriptions?customer_id=${customer.id}&status=active`)
    return list.body?.subscriptions[0] as { id: number; address_id: number; next_charge_scheduled_at: string }
  }

  it('skipping the queued charge moves the next date one interval; unskip reverts it', async () => {
    const subscription = await aliceActiveSubscription()
    const charges = await call('GET', `/charges?purchase_item_id=${subscription.id}&status=queued`)
    const charge = charges.body?.charges[0]
    expect(charge.scheduled_at).toBe(subscription.next_charge_scheduled_at)

    const skipped = await call('POST', `/charges/${charge.id}/skip`, { purchase_item_ids: [subscription.id] })
    expect(skipped.status).toBe(200)
    const afterSkip = (await call('GET', `/subscriptions/${subscription.id}`)).body?.subscription
    expect(afterSkip.next_charge_scheduled_at > subscription.next_charge_scheduled_at).toBe(true)

    const skippedCharge = (await call('GET', `/charges?purchase_item_id=${subscription.id}&status=skipped`)).body
      ?.charges[0]
    const unskipped = await call('POST', `/charges/${skippedCharge.id}/unskip`, {
      purchase_item_ids: [subscription.id],
    })
    expect(unskipped.status).toBe(200)
    const afterUnskip = (await call('GET', `/subscriptions/${subscription.id}`)).body?.subscription
    expect(afterUnskip.next_charge_scheduled_at).toBe(subscription.next_charge_scheduled_at)
  })

  it('partial skip parks one item on a skipped charge and keeps the rest queued; unskip merges it back', async () => {
    const state = await sim.state()
    const shared = state.charges.find((charge) => charge.status === 'queued' && charge.line_items.length === 2)
    if (!shared) throw new Error('the seed has a queued charge with two subscriptions')
    const kept = shared.line_items[0] as { purchase_item_id: number }
    const skippedItem = shared.line_items[1] as { purchase_item_id: number }
    const skipped = await call('POST', `/charges/${shared.id}/skip`, {
      purchase_item_ids: [skippedItem.purchase_item_id],
    })
    expect(skipped.body?.charge).toMatchObject({ id: shared.id, status: 'queued' })
    expect(skipped.body?.charge.line_items.map((item: { purchase_item_id: number }) => item.purchase_item_id)).toEqual([
      kept.purchase_item_id,
    ])
    const parked = (await call('GET', `/charges?address_id=${shared.address_id}&status=skipped`)).body?.charges
    expect(parked).toEqual([expect.objectContaining({ scheduled_at: shared.scheduled_at, status: 'skipped' })])

    const unskipped = await call('POST', `/charges/${parked[0].id}/unskip`)
    expect(unskipped.body?.charge).toMatchObject({ id: shared.id, status: 'queued' })
    expect(unskipped.body?.charge.line_items).toHaveLength(2)
    expect((await call('GET', `/charges?address_id=${shared.address_id}&status=skipped`)).body?.charges).toEqual([])
    const dates = (await call('GET', `/charges?address_id=${shared.address_id}&status=queued`)).body?.charges.map(
      (charge: { scheduled_at: string }) => charge.scheduled_at,
    )
    expect(dates).toEqual([shared.scheduled_at])
  })

  it('refuses to skip a charge that is not queued and unknown purchase items', async () => {
    const state = await sim.state()
    const past = state.charges.find((charge) => charge.status === 'success') as { id: number }
    expect((await call('POST', `/charges/${past.id}/skip`)).status).toBe(422)
    const queued = state.charges.find((charge) => charge.status === 'queued') as { id: number }
    const unknown = await call('POST', `/charges/${queued.id}/skip`, { purchase_item_ids: [1] })
    expect(unknown.status).toBe(422)
    expect(unknown.body?.errors).toHaveProperty('purchase_item_ids')
  })

  it('cancel requires a reason, then removes the queued charges; activate brings one back', async () => {
    const subscription = await aliceActiveSubscription()
    const refused = await call('POST', `/subscriptions/${subscription.id}/cancel`, {})
    expect(refused.status).toBe(422)
    expect(refused.body).toEqual({ errors: { cancellation_reason: ['Missing data for required field.'] } })

    const cancelled = await call('POST', `/subscriptions/${subscription.id}/cancel`, {
      cancellation_reason: 'too much coffee',
    })
    expect(cancelled.body?.subscription).toMatchObject({
      status: 'cancelled',
      next_charge_scheduled_at: null,
      has_queued_charges: false,
    })
    expect((await call('GET', `/charges?purchase_item_id=${subscription.id}&status=queued`)).body?.charges).toEqual([])

    const activated = await call('POST', `/subscriptions/${subscription.id}/activate`)
    expect(activated.body?.subscription).toMatchObject({ status: 'active', has_queued_charges: true })
  })

  it('set_next_charge_date refuses a past date like Recharge and moves the queued charge', async () => {
    const subscription = await aliceActiveSubscription()
    const past = await call('POST', `/subscriptions/${subscription.id}/set_next_charge_date`, { date: '2020-01-01' })
    expect(past).toMatchObject({ status: 422, body: { errors: { date: ['date is not far enough in the future'] } } })
    const target = new Date(Date.now() + 40 * 86_400_000).toISOString().slice(0, 10)
    const moved = await call('POST', `/subscriptions/${subscription.id}/set_next_charge_date`, { date: target })
    expect(moved.body?.subscription.next_charge_scheduled_at).toBe(target)
    const queued = (await call('GET', `/charges?purchase_item_id=${subscription.id}&status=queued`)).body?.charges
    expect(queued.map((charge: { scheduled_at: string }) => charge.scheduled_at)).toEqual([target])
  })

  it('changing the frequency recomputes next_charge_scheduled_at', async () => {
    const subscription = await aliceActiveSubscription()
    const updated = await call('PUT', `/subscriptions/${subscription.id}`, {
      charge_interval_frequency: 90,
      order_interval_frequency: 90,
      order_interval_unit: 'day',
    })
    expect(updated.status).toBe(200)
    expect(updated.body?.subscription.order_interval_unit).toBe('day')
    expect(updated.body?.subscription.next_charge_scheduled_at).not.toBe(subscription.next_charge_scheduled_at)
    const unitOnly = await call('PUT', `/subscriptions/${subscription.id}`, { order_interval_unit: 'week' })
    expect(unitOnly.status).toBe(422)
    expect(Object.keys(unitOnly.body?.errors)).toEqual(['charge_interval_unit_type'])
  })
})

describe('pagination', () => {
  it('walks every record with opaque cursors, null at both ends', async () => {
    const seen: number[] = []
    let page = await call('GET', '/charges?limit=4')
    expect(page.body?.previous_cursor).toBeNull()
    seen.push(...(page.body?.charges ?? []).map((charge: { id: number }) => charge.id))
    while (page.body?.next_cursor) {
      page = await call('GET', `/charges?limit=4&cursor=${page.body.next_cursor}`)
      expect(page.body?.previous_cursor).toEqual(expect.any(String))
      seen.push(...(page.body?.charges ?? []).map((charge: { id: number }) => charge.id))
    }
    const all = (await sim.state()).charges.map((charge) => charge.id).sort((a, b) => a - b)
    expect(seen).toEqual(all)
  })

  it('rejects limit > 250, filters next to a cursor, and a forged cursor with 422', async () => {
    expect((await call('GET', '/subscriptions?limit=251')).status).toBe(422)
    const first = await call('GET', '/subscriptions?limit=1')
    const withFilter = await call('GET', `/subscriptions?cursor=${first.body?.next_cursor}&status=active`)
    expect(withFilter.status).toBe(422)
    expect(withFilter.body?.errors).toHaveProperty('cursor')
    expect((await call('GET', '/customers?cursor=not-a-cursor')).body).toEqual({
      errors: { cursor: ['Invalid value'] },
    })
  })
})

describe('recurring billing on the simulator clock', () => {
  it('moving the clock past a queued charge processes it into an order and queues the next one', async () => {
    const before = await sim.state()
    const due = before.charges
      .filter((charge) => charge.status === 'queued')
      .sort((a, b) => a.scheduled_at.localeCompare(b.scheduled_at))[0] as {
      id: number
      scheduled_at: string
      address_id: number
    }
    const days = Math.round((Date.parse(`${due.scheduled_at}T12:00:00Z`) - Date.now()) / 86_400_000) + 1
    const moved = await fetch(`${sim.url}/__sim/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ advanceMs: days * 86_400_000 }),
    }).then((response) => response.json())
    expect(moved.processed_charges).toContain(due.id)

    const charge = (await call('GET', `/charges/${due.id}`)).body?.charge
    expect(charge).toMatchObject({ status: 'success', processed_at: expect.any(String) })
    expect((await call('GET', `/orders?charge_id=${due.id}`)).body?.orders).toHaveLength(1)
    const next = (await call('GET', `/charges?address_id=${due.address_id}&status=queued`)).body?.charges
    expect(next.length).toBeGreaterThan(0)
    expect(next.every((queued: { scheduled_at: string }) => queued.scheduled_at > due.scheduled_at)).toBe(true)

    await sim.reset()
    expect((await call('GET', `/charges/${due.id}`)).body?.charge.status).toBe('queued')
  })
})
