import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { activeWithQueuedCharge, type ShopperHarness, startShopperHarness } from '../support/shopper-harness.ts'

/**
 * The cancellation flow's offers over HTTP against the simulator and a real Redis: reasons from the policy file and
 * from the store's Recharge retention strategies (cached), each with the offers that apply; accepting one runs the
 * matching action; every shown, accepted and declined offer is counted in /metrics.
 */
let h: ShopperHarness
let app: FastifyInstance
let alice: string
let aliceId: string
let bobId: string

const policy = {
  retention: {
    offers: {
      'Too expensive': [{ id: 'save10', kind: 'discount', code: 'WELCOME10', title: '10 % off your next orders' }],
      'I have more than I need': [
        { id: 'skip-next', kind: 'skip' },
        { id: 'pause-month', kind: 'pause', days: 30 },
      ],
      'I want a different product': [{ id: 'swap-any', kind: 'swap' }],
    },
  },
}

beforeAll(async () => {
  h = await startShopperHarness('offers')
  app = await h.bridge(policy)
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

async function offerCount(instance: FastifyInstance, event: string, offer: string): Promise<number> {
  const metric = instance.metrics.registry.getSingleMetric('recharge_bridge_retention_offers_total')
  if (!metric) return 0
  const { values } = await metric.get()
  return values
    .filter((entry) => entry.labels.event === event && entry.labels.offer === offer)
    .reduce((sum, entry) => sum + entry.value, 0)
}

interface Reason {
  reason: string
  message: string | null
  offers: { id: string; kind: string; source: string; discount_code: string | null }[]
}

const offersOf = (reasons: Reason[], reason: string) => reasons.find((entry) => entry.reason === reason)?.offers ?? []
const writes = (calls: string[]) => calls.filter((line) => !line.startsWith('GET'))

describe('cancellation offers', () => {
  it('lists the policy reasons, then the store strategies, each with the offers that apply (strategies cached)', async () => {
    const id = String((await aliceSubscription()).id)
    const shown = await offerCount(app, 'shown', 'save10')
    const response = await h.call(app, alice, 'GET', `/v1/subscriptions/${id}/cancellation-offers`)
    expect(response.statusCode).toBe(200)
    const reasons = response.json().reasons as Reason[]
    expect(reasons.slice(0, 5).map((entry) => entry.reason)).toEqual([
      'Too expensive',
      'I have more than I need',
      'I no longer need it',
      'I want a different product',
      'Other',
    ])
    expect(offersOf(reasons, 'Too expensive')).toMatchObject([{ id: 'save10', kind: 'discount', source: 'policy' }])
    expect(offersOf(reasons, 'I have more than I need').map((offer) => offer.id)).toEqual(['skip-next', 'pause-month'])
    const strategy = reasons.find((entry) => entry.reason === 'It is too expensive')
    expect(strategy?.message).toBeTruthy()
    expect(strategy?.offers).toMatchObject([{ kind: 'discount', source: 'recharge', discount_code: 'STAYWITHUS15' }])
    expect(offersOf(reasons, 'I am going away for a while').map((offer) => offer.kind)).toEqual(['pause'])
    // "I want a different product" is in both: the strategy's swap joins the policy's reason.
    expect(offersOf(reasons, 'I want a different product').map((offer) => offer.source)).toEqual(['policy', 'recharge'])
    expect(await offerCount(app, 'shown', 'save10')).toBe(shown + 1)

    const before = await h.ledgerLength()
    await h.call(app, alice, 'GET', `/v1/subscriptions/${id}/cancellation-offers`)
    expect((await h.upstreamSince(before)).filter((line) => line.includes('retention_strategies'))).toEqual([])
  })

  it('accepts a discount offer instead of cancelling: the code is on the address, the subscription stays', async () => {
    const subscription = await aliceSubscription()
    const id = String(subscription.id)
    await h.call(app, alice, 'GET', `/v1/subscriptions/${id}/cancellation-offers`)
    const accepted = await offerCount(app, 'accepted', 'save10')
    const response = await h.call(app, alice, 'POST', `/v1/subscriptions/${id}/offers/save10/accept`)
    expect(response.statusCode).toBe(200)
    expect(response.json().offer).toMatchObject({ id: 'save10', kind: 'discount' })
    expect(response.json().subscription).toMatchObject({ id, status: 'active' })
    const state = await h.sim.state()
    expect(state.addresses.find((row) => row.id === subscription.address_id)?.discounts).toHaveLength(1)
    expect(await offerCount(app, 'accepted', 'save10')).toBe(accepted + 1)
    // A second discount offer on the same address: refused with the discount's own code.
    const again = await h.call(app, alice, 'GET', `/v1/subscriptions/${id}/cancellation-offers`)
    const strategyOffer = offersOf(again.json().reasons, 'It is too expensive')[0]
    const refused = await h.call(app, alice, 'POST', `/v1/subscriptions/${id}/offers/${strategyOffer?.id}/accept`)
    expect(refused.statusCode).toBe(422)
    expect(refused.json().code).toBe('DISCOUNT_ALREADY_APPLIED')
  })

  it('accepts a pause and a skip offer', async () => {
    const id = String((await aliceSubscription()).id)
    const paused = await h.call(app, alice, 'POST', `/v1/subscriptions/${id}/offers/pause-month/accept`)
    expect(paused.statusCode).toBe(200)
    expect(paused.json().subscription.paused_until).toBeTruthy()
    expect(paused.json().subscription.allowed_actions).toContain('resume')

    await h.reset()
    const skipped = await h.call(app, alice, 'POST', `/v1/subscriptions/${id}/offers/skip-next/accept`)
    expect(skipped.statusCode).toBe(200)
    expect(skipped.json().subscription.allowed_actions).toContain('unskip')
  })

  it('counts the offers shown for a reason as declined when the shopper cancels with it', async () => {
    const id = String((await aliceSubscription()).id)
    await h.call(app, alice, 'GET', `/v1/subscriptions/${id}/cancellation-offers`)
    const declined = await offerCount(app, 'declined', 'save10')
    const skipDeclined = await offerCount(app, 'declined', 'skip-next')
    const cancelled = await h.call(app, alice, 'POST', `/v1/subscriptions/${id}/cancel`, { reason: 'Too expensive' })
    expect(cancelled.statusCode).toBe(200)
    expect(await offerCount(app, 'declined', 'save10')).toBe(declined + 1)
    expect(await offerCount(app, 'declined', 'skip-next')).toBe(skipDeclined) // shown for another reason

    // A strategy's reason is a valid cancel reason too.
    await h.reset()
    const strategyReason = await h.call(app, alice, 'POST', `/v1/subscriptions/${id}/cancel`, {
      reason: 'It is too expensive',
    })
    expect(strategyReason.statusCode).toBe(200)
    const metrics = await app.inject({ method: 'GET', url: '/metrics' })
    expect(metrics.body).toMatch(
      /recharge_bridge_retention_offers_total\{event="declined",kind="discount",offer="save10"/,
    )
  })
})

describe('guarantees', () => {
  it('answers 403 when the policy turns the offers off; an offer whose action is off is not listed', async () => {
    const off = await h.bridge({ ...policy, actions: { cancellation_offers: false } })
    const offToken = await h.mint(off, 'alice@example.com')
    const noDiscounts = await h.bridge({ ...policy, actions: { apply_discount: false } })
    const noDiscountsToken = await h.mint(noDiscounts, 'alice@example.com')
    const id = String((await aliceSubscription()).id)
    const before = await h.ledgerLength()
    const list = await h.call(off, offToken, 'GET', `/v1/subscriptions/${id}/cancellation-offers`)
    expect(list.statusCode).toBe(403)
    const accept = await h.call(off, offToken, 'POST', `/v1/subscriptions/${id}/offers/save10/accept`)
    expect(accept.json()).toMatchObject({ code: 'ACTION_NOT_ALLOWED', action: 'cancellation_offers' })
    const listed = await h.call(noDiscounts, noDiscountsToken, 'GET', `/v1/subscriptions/${id}/cancellation-offers`)
    const kinds = (listed.json().reasons as Reason[]).flatMap((entry) => entry.offers.map((offer) => offer.kind))
    expect(kinds).not.toContain('discount')
    const hidden = await h.call(noDiscounts, noDiscountsToken, 'POST', `/v1/subscriptions/${id}/offers/save10/accept`)
    expect(hidden.statusCode).toBe(404)
    expect(writes(await h.upstreamSince(before))).toEqual([])
  })

  it('answers 404 for another shopper’s subscription and an unknown offer, with no upstream call for them', async () => {
    const bobs = String(activeWithQueuedCharge(await h.sim.state(), bobId).subscription.id)
    const id = String((await aliceSubscription()).id)
    await h.call(app, alice, 'GET', '/v1/subscriptions')
    const before = await h.ledgerLength()
    const list = await h.call(app, alice, 'GET', `/v1/subscriptions/${bobs}/cancellation-offers`)
    expect(list.statusCode).toBe(404)
    const accept = await h.call(app, alice, 'POST', `/v1/subscriptions/${bobs}/offers/save10/accept`)
    expect(accept.statusCode).toBe(404)
    const unknown = await h.call(app, alice, 'POST', `/v1/subscriptions/${id}/offers/nothing-like-it/accept`)
    expect(unknown.statusCode).toBe(404)
    const calls = await h.upstreamSince(before)
    expect(calls.filter((line) => line.includes(bobs))).toEqual([])
    expect(writes(calls)).toEqual([])
  })

  it('sends a replayed Idempotency-Key to Recharge once', async () => {
    const id = String((await aliceSubscription()).id)
    const headers = { 'idempotency-key': randomUUID() }
    const before = await h.ledgerLength()
    const first = await h.call(app, alice, 'POST', `/v1/subscriptions/${id}/offers/save10/accept`, {}, headers)
    const again = await h.call(app, alice, 'POST', `/v1/subscriptions/${id}/offers/save10/accept`, {}, headers)
    expect(first.statusCode).toBe(200)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(writes(await h.upstreamSince(before))).toHaveLength(1)
  })

  it('answers an accepted skip whose answer was lost as done, from the subscription read back', async () => {
    const id = String((await aliceSubscription()).id)
    await h.sim.setFaults([{ match: { method: 'POST', path: '/charges' }, truncate: true, count: 1 }])
    const before = await h.ledgerLength()
    const response = await h.call(app, alice, 'POST', `/v1/subscriptions/${id}/offers/skip-next/accept`)
    expect(response.statusCode).toBe(200)
    expect(response.json().subscription.allowed_actions).toContain('unskip')
    expect(writes(await h.upstreamSince(before))).toHaveLength(1)
  })
})
