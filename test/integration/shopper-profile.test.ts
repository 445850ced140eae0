import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type ShopperHarness, startShopperHarness } from '../support/shopper-harness.ts'

/**
 * PATCH /v1/me over HTTP against the simulator and a real Redis: name and phone (policy update_profile), the email
 * only under change_email (off by default), Idempotency-Key replay, Recharge refusals as 422 codes, a lost answer
 * read back, and the change showing on the next GET /v1/me.
 */
let h: ShopperHarness
let app: FastifyInstance
let alice: string
let aliceId: string

async function simCustomer(id: string) {
  const customer = (await h.sim.state()).customers.find((row) => String(row.id) === id)
  if (!customer) throw new Error(`no customer ${id}`)
  return customer
}

async function profileWrites(mark: number): Promise<string[]> {
  return (await h.upstreamSince(mark)).filter((call) => call.startsWith('PUT /customers'))
}

beforeAll(async () => {
  h = await startShopperHarness('profile', { addressWriteWindowMs: 0 })
  app = await h.bridge()
  alice = await h.mint(app, 'alice@example.com')
  aliceId = await h.customerId('alice@example.com')
})

beforeEach(async () => {
  await h.reset()
})

afterAll(async () => {
  await h?.close()
})

describe('PATCH /v1/me', () => {
  it('changes the name and phone, and the next GET /v1/me shows them', async () => {
    expect((await h.call(app, alice, 'GET', '/v1/me')).json().first_name).toBe('Alice')
    const mark = await h.ledgerLength()
    const response = await h.call(app, alice, 'PATCH', '/v1/me', {
      first_name: 'Alicia',
      last_name: 'Keys',
      phone: '+1 555 0100',
    })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual(
      expect.objectContaining({ id: aliceId, first_name: 'Alicia', last_name: 'Keys', phone: '+1 555 0100' }),
    )
    expect(response.json().payment_recovery).toBeNull()
    expect(response.body).not.toMatch(/hash/)
    expect(await profileWrites(mark)).toEqual([`PUT /customers/${aliceId}`])
    expect(await simCustomer(aliceId)).toEqual(
      expect.objectContaining({ first_name: 'Alicia', last_name: 'Keys', phone: '+1 555 0100' }),
    )
    const me = await h.call(app, alice, 'GET', '/v1/me')
    expect(me.json()).toEqual(expect.objectContaining({ first_name: 'Alicia', phone: '+1 555 0100' }))

    const cleared = await h.call(app, alice, 'PATCH', '/v1/me', { phone: '' })
    expect(cleared.json().phone).toBeNull()
    expect((await simCustomer(aliceId)).phone).toBeNull()
  })

  it('refuses an email change by default (403, no upstream call), and allows it under change_email', async () => {
    const mark = await h.ledgerLength()
    const refused = await h.call(app, alice, 'PATCH', '/v1/me', { first_name: 'A', email: 'alice.new@example.com' })
    expect(refused.statusCode).toBe(403)
    expect(refused.json()).toEqual(expect.objectContaining({ code: 'ACTION_NOT_ALLOWED', action: 'change_email' }))
    // At most the sign-in's identity lookup (the reset dropped it): nothing about the profile.
    expect((await h.upstreamSince(mark)).filter((call) => call !== 'GET /customers')).toEqual([])
    expect((await simCustomer(aliceId)).first_name).toBe('Alice')

    const open = await h.bridge({ actions: { change_email: true } })
    const token = await h.mint(open, 'alice@example.com')
    const changed = await h.call(open, token, 'PATCH', '/v1/me', { email: 'Alice.New@example.com' })
    expect(changed.statusCode).toBe(200)
    expect(changed.json().email).toBe('alice.new@example.com')
    expect((await simCustomer(aliceId)).email).toBe('alice.new@example.com')
    // The new email signs in at once (its cached "unknown" is dropped); the old one no longer names her.
    expect((await h.mint(open, 'alice.new@example.com')).length).toBeGreaterThan(0)
    const old = await open.inject({
      method: 'POST',
      url: '/v1/admin/customer-tokens',
      headers: { authorization: 'Bearer test-admin-key-0123456789abcdef' },
      payload: { email: 'alice@example.com' },
    })
    expect(old.statusCode).toBe(404)
  })

  it('answers EMAIL_IN_USE (422) for an email another customer has', async () => {
    const open = await h.bridge({ actions: { change_email: true } })
    const token = await h.mint(open, 'alice@example.com')
    const taken = await h.call(open, token, 'PATCH', '/v1/me', { email: 'bob@example.com' })
    expect(taken.statusCode).toBe(422)
    expect(taken.json()).toEqual(
      expect.objectContaining({
        code: 'EMAIL_IN_USE',
        errors: [{ field: 'body.email', message: expect.any(String) }],
      }),
    )
    expect((await simCustomer(aliceId)).email).toBe('alice@example.com')
  })

  it('answers 403 under a policy without update_profile, before any upstream call', async () => {
    const strict = await h.bridge({ actions: { update_profile: false } })
    const token = await h.mint(strict, 'alice@example.com')
    const mark = await h.ledgerLength()
    const response = await h.call(strict, token, 'PATCH', '/v1/me', { first_name: 'Nope' })
    expect(response.statusCode).toBe(403)
    expect(response.json().action).toBe('update_profile')
    expect(await h.upstreamSince(mark)).toEqual([])
  })

  it('validates the body (400) without calling Recharge', async () => {
    const mark = await h.ledgerLength()
    for (const body of [{}, { first_name: '' }, { nickname: 'x' }, { email: 'not-an-email' }]) {
      const response = await h.call(app, alice, 'PATCH', '/v1/me', body)
      expect(response.statusCode, JSON.stringify(body)).toBe(400)
    }
    expect(await profileWrites(mark)).toEqual([])
  })

  it('maps a Recharge refusal to 422 UPSTREAM_REJECTED', async () => {
    await h.sim.setFaults([{ match: { method: 'PUT', path: '/customers' }, status: 422, count: 1 }])
    const response = await h.call(app, alice, 'PATCH', '/v1/me', { first_name: 'Alicia' })
    expect(response.statusCode).toBe(422)
    expect(response.json().code).toBe('UPSTREAM_REJECTED')
  })

  it('replays an Idempotency-Key retry with one upstream write', async () => {
    const key = randomUUID()
    const mark = await h.ledgerLength()
    const first = await h.call(app, alice, 'PATCH', '/v1/me', { last_name: 'Once' }, { 'idempotency-key': key })
    const second = await h.call(app, alice, 'PATCH', '/v1/me', { last_name: 'Once' }, { 'idempotency-key': key })
    expect(first.statusCode).toBe(200)
    expect(second.json()).toEqual(first.json())
    expect(await profileWrites(mark)).toHaveLength(1)
  })

  it('answers a change whose answer was lost as done, from the customer read back', async () => {
    await h.sim.setFaults([{ match: { method: 'PUT', path: '/customers' }, truncate: true, count: 1 }])
    const mark = await h.ledgerLength()
    const response = await h.call(
      app,
      alice,
      'PATCH',
      '/v1/me',
      { first_name: 'Lost' },
      { 'idempotency-key': randomUUID() },
    )
    expect(response.statusCode).toBe(200)
    expect(response.json().first_name).toBe('Lost')
    const calls = await h.upstreamSince(mark)
    expect(calls).toContain(`GET /customers/${aliceId}`)
    expect(await profileWrites(mark)).toHaveLength(1)
  })
})
