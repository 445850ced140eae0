import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { deleteKeys } from '../support/redis.ts'
import { type ShopperHarness, startShopperHarness } from '../support/shopper-harness.ts'

/**
 * Payment methods and dunning recovery over HTTP against the simulator and a real Redis: the masked list, what
 * GET /v1/me says to a shopper whose payment failed (frank@example.com is seeded in dunning), and the update-link
 * email (`POST /customers/{id}/notifications`, visible at the simulator's /__sim/notifications), with its policy,
 * ownership, per-shopper window, Idempotency-Key, Recharge refusals and a lost answer.
 */
let h: ShopperHarness
let app: FastifyInstance
let frank: string
let alice: string
let erin: string
let frankId: string
let aliceId: string
let erinId: string

interface Notification {
  customer_id: number
  type: string
  template_type: string
  template_vars: Record<string, unknown>
}

async function notifications(customerId: string): Promise<Notification[]> {
  const response = await fetch(`${h.sim.url}/__sim/notifications?customer_id=${customerId}`)
  return ((await response.json()) as { notifications: Notification[] }).notifications
}

async function frankMethodId(): Promise<string> {
  const state = await h.sim.state()
  return String(state.payment_methods.find((row) => String(row.customer_id) === frankId)?.id)
}

const updateLink = (id: string) => `/v1/payment-methods/${id}/update-link`

beforeAll(async () => {
  h = await startShopperHarness('paymethods', { addressWriteWindowMs: 0 })
  app = await h.bridge()
  frank = await h.mint(app, 'frank@example.com')
  alice = await h.mint(app, 'alice@example.com')
  erin = await h.mint(app, 'erin@example.com')
  frankId = await h.customerId('frank@example.com')
  aliceId = await h.customerId('alice@example.com')
  erinId = await h.customerId('erin@example.com')
})

beforeEach(async () => {
  await h.reset()
  // Each test starts with every shopper's update-link window open.
  await deleteKeys(h.redis, `rb:${h.namespace}*update-link:*`)
})

afterAll(async () => {
  await h?.close()
})

describe('GET /v1/payment-methods', () => {
  it("lists the shopper's methods masked, default first, with the addresses each pays for", async () => {
    const response = await h.call(app, erin, 'GET', '/v1/payment-methods')
    expect(response.statusCode).toBe(200)
    expect(response.headers['cache-control']).toBe('private, no-store')
    const methods = response.json().payment_methods
    expect(methods).toHaveLength(2)
    expect(methods[0].is_default).toBe(true)
    expect(methods[1].is_default).toBe(false)
    const state = await h.sim.state()
    const erinAddresses = state.addresses.filter((row) => String(row.customer_id) === erinId)
    for (const method of methods) {
      expect(Object.keys(method).sort()).toEqual(
        [
          'address_ids',
          'brand',
          'exp_month',
          'exp_year',
          'failing',
          'id',
          'in_dunning',
          'is_default',
          'last4',
          'payment_type',
          'status',
        ].sort(),
      )
      expect(method.last4).toMatch(/^\d{4}$/)
      expect(method.status).toBe('ok')
      const users = erinAddresses
        .filter((row) => String(row.payment_method_id) === method.id)
        .map((row) => String(row.id))
      expect(method.address_ids).toEqual(users)
    }
    expect(response.body).not.toMatch(/cus_sim|pm_sim|processor/)
  })

  it('shows the card of a shopper in dunning as failing, expired and in dunning', async () => {
    const response = await h.call(app, frank, 'GET', '/v1/payment-methods')
    expect(response.statusCode).toBe(200)
    const [method] = response.json().payment_methods
    const state = await h.sim.state()
    const address = state.addresses.find((row) => String(row.customer_id) === frankId)
    expect(method).toEqual(
      expect.objectContaining({
        id: await frankMethodId(),
        status: 'expired',
        failing: true,
        in_dunning: true,
        is_default: true,
        address_ids: [String(address?.id)],
      }),
    )
  })
})

describe('GET /v1/me payment recovery', () => {
  it('tells a shopper whose payment failed what happened and which route fixes it', async () => {
    const response = await h.call(app, frank, 'GET', '/v1/me')
    expect(response.statusCode).toBe(200)
    const me = response.json()
    expect(me.has_payment_method_in_dunning).toBe(true)
    const failed = (await h.sim.state()).charges.find(
      (row) => String(row.customer.id) === frankId && row.status === 'error',
    )
    expect(me.payment_recovery).toEqual({
      reason: 'payment_failed',
      message: expect.stringMatching(/did not go through.*card ending \d{4}/),
      failed_charge: { id: String(failed?.id), scheduled_at: String(failed?.scheduled_at).slice(0, 10) },
      payment_method_id: await frankMethodId(),
      action: {
        label: expect.any(String),
        method: 'POST',
        href: updateLink(await frankMethodId()),
        body: null,
      },
    })
  })

  it('says nothing, and reads nothing more, for a shopper in good standing', async () => {
    await h.call(app, alice, 'GET', '/v1/me')
    const mark = await h.ledgerLength()
    const response = await h.call(app, alice, 'GET', '/v1/me')
    expect(response.json().payment_recovery).toBeNull()
    expect(await h.upstreamSince(mark)).toEqual([])
  })

  it('points to the hosted portal when the store does not offer the update-link email', async () => {
    const strict = await h.bridge({ actions: { update_payment_method: false } })
    const token = await h.mint(strict, 'frank@example.com')
    const response = await h.call(strict, token, 'GET', '/v1/me')
    expect(response.json().payment_recovery.action).toEqual(
      expect.objectContaining({ href: '/v1/portal/links', body: { page: 'payment_methods' } }),
    )
  })
})

describe('POST /v1/payment-methods/:id/update-link', () => {
  it('asks Recharge to email the update link (202), once per window per shopper (429 with Retry-After)', async () => {
    const id = await frankMethodId()
    const mark = await h.ledgerLength()
    const response = await h.call(app, frank, 'POST', updateLink(id))
    expect(response.statusCode).toBe(202)
    expect(response.json()).toEqual({
      status: 'sent',
      payment_method_id: id,
      next_request_after: expect.any(String),
    })
    expect(Date.parse(response.json().next_request_after)).toBeGreaterThan(Date.now() + 9 * 60_000)
    expect((await h.upstreamSince(mark)).filter((call) => call.startsWith('POST'))).toEqual([
      `POST /customers/${frankId}/notifications`,
    ])
    expect(await notifications(frankId)).toEqual([
      expect.objectContaining({
        type: 'email',
        template_type: 'shopify_update_payment_information',
        template_vars: { payment_method_id: Number(id) },
      }),
    ])

    const again = await h.call(app, frank, 'POST', updateLink(id))
    expect(again.statusCode).toBe(429)
    expect(again.json().code).toBe('RATE_LIMITED')
    expect(Number(again.headers['retry-after'])).toBeGreaterThan(500)
    expect(await notifications(frankId)).toHaveLength(1)
  })

  it('shares the window across replicas (Redis)', async () => {
    const replica = await h.replica(app)
    const id = await frankMethodId()
    expect((await h.call(app, frank, 'POST', updateLink(id))).statusCode).toBe(202)
    expect((await h.call(replica, frank, 'POST', updateLink(id))).statusCode).toBe(429)
    expect(await notifications(frankId)).toHaveLength(1)
  })

  it("answers 404 for another shopper's payment method, with no upstream call for it", async () => {
    const id = await frankMethodId()
    await h.call(app, alice, 'GET', '/v1/payment-methods')
    const mark = await h.ledgerLength()
    const response = await h.call(app, alice, 'POST', updateLink(id))
    expect(response.statusCode).toBe(404)
    expect(response.json().code).toBe('NOT_FOUND')
    const calls = await h.upstreamSince(mark)
    expect(calls.filter((call) => call.includes(id) || call.startsWith('POST'))).toEqual([])
    expect(await notifications(aliceId)).toEqual([])
    expect(await notifications(frankId)).toEqual([])
  })

  it('answers 403 when the store policy does not offer it, before any upstream call', async () => {
    const strict = await h.bridge({ actions: { update_payment_method: false } })
    const token = await h.mint(strict, 'frank@example.com')
    const mark = await h.ledgerLength()
    const response = await h.call(strict, token, 'POST', updateLink(await frankMethodId()))
    expect(response.statusCode).toBe(403)
    expect(response.json()).toEqual(
      expect.objectContaining({ code: 'ACTION_NOT_ALLOWED', action: 'update_payment_method' }),
    )
    expect(await h.upstreamSince(mark)).toEqual([])
  })

  it('replays an Idempotency-Key retry without a second email or a 429', async () => {
    const id = await frankMethodId()
    const key = randomUUID()
    const first = await h.call(app, frank, 'POST', updateLink(id), undefined, { 'idempotency-key': key })
    const second = await h.call(app, frank, 'POST', updateLink(id), undefined, { 'idempotency-key': key })
    expect(first.statusCode).toBe(202)
    expect(second.statusCode).toBe(202)
    expect(second.json()).toEqual(first.json())
    expect(await notifications(frankId)).toHaveLength(1)
  })

  it('maps a Recharge refusal to a 422 and gives the window back', async () => {
    const id = await frankMethodId()
    await h.sim.setFaults([{ match: { method: 'POST', path: '/customers' }, status: 422, count: 1 }])
    const refused = await h.call(app, frank, 'POST', updateLink(id))
    expect(refused.statusCode).toBe(422)
    expect(refused.json().code).toBe('UPSTREAM_REJECTED')
    expect(await notifications(frankId)).toEqual([])
    // Nothing was sent: the shopper may ask again at once.
    expect((await h.call(app, frank, 'POST', updateLink(id))).statusCode).toBe(202)
    expect(await notifications(frankId)).toHaveLength(1)
  })

  it('says plainly when the answer was lost, and keeps the window (the email may be on its way)', async () => {
    const id = await frankMethodId()
    await h.sim.setFaults([{ match: { method: 'POST', path: '/customers' }, truncate: true, count: 1 }])
    const key = randomUUID()
    const lost = await h.call(app, frank, 'POST', updateLink(id), undefined, { 'idempotency-key': key })
    expect(lost.statusCode).toBeGreaterThanOrEqual(500)
    expect(lost.json().outcome).toBe('unknown')
    // Recharge did send it: one email, and a new request waits for the window.
    expect(await notifications(frankId)).toHaveLength(1)
    expect((await h.call(app, frank, 'POST', updateLink(id))).statusCode).toBe(429)
    // The same key replays the same honest answer, without a second email.
    const replay = await h.call(app, frank, 'POST', updateLink(id), undefined, { 'idempotency-key': key })
    expect(replay.statusCode).toBe(lost.statusCode)
    expect(await notifications(frankId)).toHaveLength(1)
  })
})
