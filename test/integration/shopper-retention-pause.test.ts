import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  activeWithQueuedCharge,
  dateInDays,
  type ShopperHarness,
  startShopperHarness,
} from '../support/shopper-harness.ts'

/**
 * Pause and resume over HTTP against the simulator and a real Redis. Recharge keeps a paused subscription active
 * with its next charge on the pause's end (set_next_charge_date?pause=true); the bridge shows it as paused with
 * resume among its allowed actions, and resume moves the date back.
 */
let h: ShopperHarness
let app: FastifyInstance
let alice: string
let aliceId: string
let bobId: string

beforeAll(async () => {
  h = await startShopperHarness('pause')
  app = await h.bridge({ pause: { max_days: 120, max_deliveries: 2 } })
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

async function aliceSubscription() {
  return activeWithQueuedCharge(await h.sim.state(), aliceId).subscription
}

const writes = (calls: string[]) => calls.filter((line) => !line.startsWith('GET'))

describe('pause and resume', () => {
  it('pauses until a date: active in Recharge, paused with resume offered here; resume moves the date back', async () => {
    const subscription = await aliceSubscription()
    const id = String(subscription.id)
    const original = subscription.next_charge_scheduled_at?.slice(0, 10) as string
    const until = dateInDays(60)
    const before = await h.ledgerLength()
    const paused = await h.call(app, alice, 'POST', `/v1/subscriptions/${id}/pause`, { until })
    expect(paused.statusCode).toBe(200)
    expect(paused.json()).toMatchObject({ id, status: 'active', paused_until: until, next_charge_date: until })
    expect(paused.json().allowed_actions).toContain('resume')
    expect(paused.json().allowed_actions).not.toContain('pause')
    expect(writes(await h.upstreamSince(before))).toEqual([`POST /subscriptions/${id}/set_next_charge_date`])
    let state = await h.sim.state()
    expect(state.subscription_pauses.map((row) => String(row.subscription_id))).toContain(id)
    expect(state.subscriptions.find((row) => String(row.id) === id)?.next_charge_scheduled_at?.slice(0, 10)).toBe(until)

    const listed = (await h.call(app, alice, 'GET', '/v1/subscriptions')).json().subscriptions
    const row = listed.find((candidate: { id: string }) => candidate.id === id)
    expect(row.paused_until).toBe(until)
    expect(row.allowed_actions).toContain('resume')

    const resumed = await h.call(app, alice, 'POST', `/v1/subscriptions/${id}/resume`)
    expect(resumed.statusCode).toBe(200)
    expect(resumed.json()).toMatchObject({ paused_until: null, next_charge_date: original })
    expect(resumed.json().allowed_actions).toContain('pause')
    state = await h.sim.state()
    expect(state.subscription_pauses.map((row) => String(row.subscription_id))).not.toContain(id)
    const again = await h.call(app, alice, 'POST', `/v1/subscriptions/${id}/resume`)
    expect(again.statusCode).toBe(422)
  })

  it('pauses for a number of deliveries, within the policy bounds (422 before any write outside them)', async () => {
    const subscription = await aliceSubscription()
    const id = String(subscription.id)
    const before = await h.ledgerLength()
    const tooMany = await h.call(app, alice, 'POST', `/v1/subscriptions/${id}/pause`, { deliveries: 3 })
    expect(tooMany.statusCode).toBe(422)
    expect(tooMany.json().errors[0].field).toBe('body.deliveries')
    const tooLong = await h.call(app, alice, 'POST', `/v1/subscriptions/${id}/pause`, { until: dateInDays(200) })
    expect(tooLong.statusCode).toBe(422)
    const tooSoon = await h.call(app, alice, 'POST', `/v1/subscriptions/${id}/pause`, {
      until: subscription.next_charge_scheduled_at?.slice(0, 10),
    })
    expect(tooSoon.statusCode).toBe(422)
    const both = await h.call(app, alice, 'POST', `/v1/subscriptions/${id}/pause`, {
      until: dateInDays(30),
      deliveries: 1,
    })
    expect(both.statusCode).toBe(400)
    expect(writes(await h.upstreamSince(before))).toEqual([])

    const paused = await h.call(app, alice, 'POST', `/v1/subscriptions/${id}/pause`, { deliveries: 1 })
    expect(paused.statusCode).toBe(200)
    expect(paused.json().paused_until > String(subscription.next_charge_scheduled_at).slice(0, 10)).toBe(true)
  })

  it('answers 403 when the policy turns pause or resume off, before any upstream write', async () => {
    const strict = await h.bridge({ actions: { pause: false, resume: false } })
    const token = await h.mint(strict, 'alice@example.com')
    const id = String((await aliceSubscription()).id)
    const before = await h.ledgerLength()
    const pause = await h.call(strict, token, 'POST', `/v1/subscriptions/${id}/pause`, { until: dateInDays(40) })
    expect(pause.statusCode).toBe(403)
    expect(pause.json()).toMatchObject({ code: 'ACTION_NOT_ALLOWED', action: 'pause' })
    const resume = await h.call(strict, token, 'POST', `/v1/subscriptions/${id}/resume`)
    expect(resume.json()).toMatchObject({ code: 'ACTION_NOT_ALLOWED', action: 'resume' })
    expect(writes(await h.upstreamSince(before))).toEqual([])
    const detail = (await h.call(strict, token, 'GET', `/v1/subscriptions/${id}`)).json()
    expect(detail.allowed_actions).not.toContain('pause')
  })

  it('answers 404 for another shopper’s subscription, with no upstream call for it', async () => {
    const bobs = String(activeWithQueuedCharge(await h.sim.state(), bobId).subscription.id)
    await h.call(app, alice, 'GET', '/v1/subscriptions')
    const before = await h.ledgerLength()
    for (const [url, body] of [
      [`/v1/subscriptions/${bobs}/pause`, { until: dateInDays(40) }],
      [`/v1/subscriptions/${bobs}/resume`, undefined],
    ] as const) {
      const response = await h.call(app, alice, 'POST', url, body)
      expect(response.statusCode, url).toBe(404)
      expect(response.json().code).toBe('NOT_FOUND')
    }
    expect((await h.upstreamSince(before)).filter((line) => line.includes(bobs))).toEqual([])
  })

  it('sends a replayed Idempotency-Key to Recharge once', async () => {
    const id = String((await aliceSubscription()).id)
    const key = randomUUID()
    const before = await h.ledgerLength()
    const body = { until: dateInDays(45) }
    const first = await h.call(app, alice, 'POST', `/v1/subscriptions/${id}/pause`, body, { 'idempotency-key': key })
    const again = await h.call(app, alice, 'POST', `/v1/subscriptions/${id}/pause`, body, { 'idempotency-key': key })
    expect(first.statusCode).toBe(200)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.body).toBe(first.body)
    expect(writes(await h.upstreamSince(before))).toHaveLength(1)
  })

  it('maps Recharge’s refusal (cancelled behind the bridge’s back) to a 422', async () => {
    const id = String((await aliceSubscription()).id)
    await h.call(app, alice, 'GET', '/v1/subscriptions') // cached as active
    expect((await h.sim.api('POST', `/subscriptions/${id}/cancel`, { cancellation_reason: 'test' })).status).toBe(200)
    const response = await h.call(app, alice, 'POST', `/v1/subscriptions/${id}/pause`, { until: dateInDays(40) })
    expect(response.statusCode).toBe(422)
    expect(response.json().code).toBe('UPSTREAM_REJECTED')
  })

  it('answers a pause whose answer was lost as done, from the subscription read back, sent once', async () => {
    const id = String((await aliceSubscription()).id)
    const until = dateInDays(50)
    await h.sim.setFaults([{ match: { method: 'POST', path: '/subscriptions' }, truncate: true, count: 1 }])
    const before = await h.ledgerLength()
    const response = await h.call(
      app,
      alice,
      'POST',
      `/v1/subscriptions/${id}/pause`,
      { until },
      {
        'idempotency-key': randomUUID(),
      },
    )
    expect(response.statusCode).toBe(200)
    expect(response.json()).toMatchObject({ paused_until: until })
    expect(writes(await h.upstreamSince(before))).toHaveLength(1)
  })

  it('says the outcome is unknown when the read-back does not show the pause', async () => {
    const id = String((await aliceSubscription()).id)
    await h.sim.setFaults([{ match: { method: 'POST', path: '/subscriptions' }, status: 500, count: 1 }])
    const response = await h.call(app, alice, 'POST', `/v1/subscriptions/${id}/pause`, { until: dateInDays(50) })
    expect(response.statusCode).toBeGreaterThanOrEqual(502)
    expect(response.json().outcome).toBe('unknown')
  })
})
