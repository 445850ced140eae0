import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
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

/** An active subscription that sits alone on its queued charge, with that charge. */
async function loneQueuedSubscription() {
  const state = await sim.state()
  for (const subscription of state.subscriptions) {
    if (subscription.status !== 'active' || !subscription.has_queued_charges) continue
    const charge = state.charges.find(
      (candidate) =>
        candidate.status === 'queued' && candidate.line_items.some((item) => item.purchase_item_id === subscription.id),
    )
    if (charge?.line_items.length === 1) return { subscription, charge, today: state.now.slice(0, 10) }
  }
  throw new Error('the seed has no subscription alone on a queued charge')
}

describe('GET /retention_strategies', () => {
  it('lists the seeded reasons with prevention text, incentive type and discount code in a cursor envelope', async () => {
    const listed = await sim.api('GET', '/retention_strategies')
    expect(listed.status).toBe(200)
    expect(listed.body).toMatchObject({ next_cursor: null, previous_cursor: null })
    const strategies = listed.body.retention_strategies as Record<string, unknown>[]
    expect(strategies.map((strategy) => strategy.incentive_type)).toEqual([
      'discount',
      'skip_charge',
      'delay_subscription',
      'swap_product',
      null,
    ])
    expect(strategies[0]).toMatchObject({
      reason: 'It is too expensive',
      prevention_text: expect.any(String),
      discount_code: 'STAYWITHUS15',
      cancellation_flow_type: 'subscription',
    })
    const code = await sim.api('GET', '/discounts?discount_code=STAYWITHUS15')
    expect(code.body.discounts).toHaveLength(1)
  })

  it('pages with a cursor, filters by incentive type and refuses an unknown one with 422', async () => {
    const first = await sim.api('GET', '/retention_strategies?limit=2')
    expect(first.body.retention_strategies).toHaveLength(2)
    const second = await sim.api('GET', `/retention_strategies?limit=2&cursor=${first.body.next_cursor}`)
    expect(second.body.retention_strategies[0].id).toBeGreaterThan(first.body.retention_strategies[1].id)
    const mixed = await sim.api('GET', `/retention_strategies?cursor=${first.body.next_cursor}&incentive_type=discount`)
    expect(mixed.status).toBe(422)

    const skips = await sim.api('GET', '/retention_strategies?incentive_type=skip_charge')
    expect(skips.body.retention_strategies.map((s: { reason: string }) => s.reason)).toEqual([
      'I have too much product',
    ])
    const bad = await sim.api('GET', '/retention_strategies?incentive_type=free_beer')
    expect(bad.status).toBe(422)
    expect(bad.body.errors.incentive_type[0]).toMatch(/^Must be one of/)
  })

  it('answers one strategy by id and 404 for an unknown id', async () => {
    const { body } = await sim.api('GET', '/retention_strategies')
    const id = body.retention_strategies[1].id
    expect((await sim.api('GET', `/retention_strategies/${id}`)).body.retention_strategy.id).toBe(id)
    const missing = await sim.api('GET', '/retention_strategies/999')
    expect(missing).toEqual({ status: 404, body: { errors: 'Not Found' } })
  })

  it('shows the strategies and the discounts in /__sim/state', async () => {
    const state = await sim.state()
    expect(state.retention_strategies).toHaveLength(5)
    expect(state.discounts.map((discount) => discount.code)).toContain('STAYWITHUS15')
    expect(state.subscription_pauses).toEqual([])
  })
})

describe('pause and resume (set_next_charge_date with pause=true)', () => {
  it('moves the next charge to the resume date, keeps the subscription active and emits subscription/paused', async () => {
    const { subscription, charge, today } = await loneQueuedSubscription()
    await sink.subscribe(['subscription/paused', 'subscription/updated', 'charge/deleted', 'charge/created'])
    const resume = addDays(today, 60)

    const paused = await sim.api('POST', `/subscriptions/${subscription.id}/set_next_charge_date?pause=true`, {
      date: resume,
    })
    expect(paused.status).toBe(200)
    expect(paused.body.subscription).toMatchObject({
      id: subscription.id,
      status: 'active',
      next_charge_scheduled_at: resume,
      has_queued_charges: true,
    })
    expect(paused.body.subscription).not.toHaveProperty('paused')

    const state = await sim.state()
    expect(state.charges.find((candidate) => candidate.id === charge.id)).toBeUndefined()
    const queued = state.charges.filter(
      (candidate) =>
        candidate.status === 'queued' && candidate.line_items.some((item) => item.purchase_item_id === subscription.id),
    )
    expect(queued.map((candidate) => candidate.scheduled_at)).toEqual([resume])
    expect(state.subscription_pauses).toEqual([
      { subscription_id: subscription.id, paused_at: expect.any(String), resumes_on: resume },
    ])

    const hooks = await sink.collect()
    const topics = hooks.map((hook) => hook.topic).sort()
    expect(topics).toEqual(['charge/created', 'charge/deleted', 'subscription/paused', 'subscription/updated'])
    const pausedHook = hooks.find((hook) => hook.topic === 'subscription/paused')
    expect(pausedHook?.body.subscription).toMatchObject({ id: subscription.id, next_charge_scheduled_at: resume })
    expect(hooks.find((hook) => hook.topic === 'charge/deleted')?.body).toEqual({ charge: { id: charge.id } })
  })

  it('accepts the pause flag in the body as well', async () => {
    const { subscription, today } = await loneQueuedSubscription()
    const resume = addDays(today, 45)
    const paused = await sim.api('POST', `/subscriptions/${subscription.id}/set_next_charge_date`, {
      date: resume,
      pause: true,
    })
    expect(paused.status).toBe(200)
    expect((await sim.state()).subscription_pauses.map((pause) => pause.subscription_id)).toEqual([subscription.id])
  })

  it('resumes early with a plain set_next_charge_date: the pause ends and no subscription/paused is sent', async () => {
    const { subscription, today } = await loneQueuedSubscription()
    await sim.api('POST', `/subscriptions/${subscription.id}/set_next_charge_date?pause=true`, {
      date: addDays(today, 60),
    })
    await sink.subscribe(['subscription/paused', 'subscription/updated'])
    const sooner = addDays(today, 3)
    const resumed = await sim.api('POST', `/subscriptions/${subscription.id}/set_next_charge_date`, { date: sooner })
    expect(resumed.body.subscription.next_charge_scheduled_at).toBe(sooner)
    const state = await sim.state()
    expect(state.subscription_pauses).toEqual([])
    expect(
      state.charges.some(
        (charge) =>
          charge.status === 'queued' &&
          charge.scheduled_at === sooner &&
          charge.line_items.some((item) => item.purchase_item_id === subscription.id),
      ),
    ).toBe(true)
    expect((await sink.collect()).map((hook) => hook.topic)).toEqual(['subscription/updated'])
  })

  it('refuses a pause date that is not in the future, and a pause of a cancelled subscription', async () => {
    const { subscription, today } = await loneQueuedSubscription()
    const past = await sim.api('POST', `/subscriptions/${subscription.id}/set_next_charge_date?pause=true`, {
      date: today,
    })
    expect(past).toEqual({ status: 422, body: { errors: { date: ['date is not far enough in the future'] } } })

    await sim.api('POST', `/subscriptions/${subscription.id}/cancel`, { cancellation_reason: 'too expensive' })
    const cancelled = await sim.api('POST', `/subscriptions/${subscription.id}/set_next_charge_date?pause=true`, {
      date: addDays(today, 30),
    })
    expect(cancelled).toEqual({ status: 422, body: { errors: { status: ['Subscription is not active.'] } } })
    expect((await sim.state()).subscription_pauses).toEqual([])
  })

  it('ends the pause record when the subscription is cancelled while paused', async () => {
    const { subscription, today } = await loneQueuedSubscription()
    await sim.api('POST', `/subscriptions/${subscription.id}/set_next_charge_date?pause=true`, {
      date: addDays(today, 30),
    })
    await sim.api('POST', `/subscriptions/${subscription.id}/cancel`, { cancellation_reason: 'moving' })
    expect((await sim.state()).subscription_pauses).toEqual([])
  })
})
