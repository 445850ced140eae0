import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type ShopperHarness, startShopperHarness } from '../support/shopper-harness.ts'

/**
 * Adding an address (POST /v1/addresses, policy create_address) and moving a subscription to another of the
 * shopper's addresses (POST /v1/subscriptions/:id/change-address, policy change_address), over HTTP against the
 * simulator and a real Redis: policy, ownership of both ids, Idempotency-Key replay, Recharge refusals, lost answers.
 */
let h: ShopperHarness
let app: FastifyInstance
let alice: string
let aliceId: string
let bobId: string

const office = {
  first_name: 'Alice',
  last_name: 'Example',
  company: 'Example Co',
  address1: '1 Office Park',
  city: 'Springfield',
  province: 'Illinois',
  zip: '62701',
  country_code: 'US',
}

async function addressesOf(customerId: string) {
  return (await h.sim.state()).addresses.filter((row) => String(row.customer_id) === customerId)
}

async function creates(mark: number): Promise<string[]> {
  return (await h.upstreamSince(mark)).filter((call) => call === 'POST /addresses')
}

async function activeSubscriptionOf(customerId: string) {
  const subscription = (await h.sim.state()).subscriptions.find(
    (row) => String(row.customer_id) === customerId && row.status === 'active',
  )
  if (!subscription) throw new Error('no active subscription')
  return subscription
}

beforeAll(async () => {
  h = await startShopperHarness('addrcreate', { addressWriteWindowMs: 0 })
  app = await h.bridge()
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

describe('POST /v1/addresses', () => {
  it('adds an address to the shopper (201) that the next list shows', async () => {
    const before = await addressesOf(aliceId)
    expect((await h.call(app, alice, 'GET', '/v1/addresses')).json().addresses).toHaveLength(before.length)
    const response = await h.call(app, alice, 'POST', '/v1/addresses', office)
    expect(response.statusCode).toBe(201)
    const created = response.json()
    expect(created).toEqual(expect.objectContaining({ id: expect.any(String), ...office, address2: null }))
    const after = await addressesOf(aliceId)
    expect(after).toHaveLength(before.length + 1)
    expect(after.find((row) => String(row.id) === created.id)?.customer_id).toBe(Number(aliceId))
    const listed = (await h.call(app, alice, 'GET', '/v1/addresses')).json().addresses
    expect(listed.map((row: { id: string }) => row.id)).toContain(created.id)
  })

  it('answers 403 under a policy without create_address, before any upstream call', async () => {
    const strict = await h.bridge({ actions: { create_address: false } })
    const token = await h.mint(strict, 'alice@example.com')
    const mark = await h.ledgerLength()
    const response = await h.call(strict, token, 'POST', '/v1/addresses', office)
    expect(response.statusCode).toBe(403)
    expect(response.json().action).toBe('create_address')
    expect(await h.upstreamSince(mark)).toEqual([])
  })

  it('validates the body (400) and never takes a customer id from it', async () => {
    const mark = await h.ledgerLength()
    for (const body of [
      { ...office, country_code: 'usa' },
      { ...office, address1: '' },
      { ...office, customer_id: bobId },
    ]) {
      expect((await h.call(app, alice, 'POST', '/v1/addresses', body)).statusCode, JSON.stringify(body)).toBe(400)
    }
    const { city: _city, ...withoutCity } = office
    expect((await h.call(app, alice, 'POST', '/v1/addresses', withoutCity)).statusCode).toBe(400)
    expect(await creates(mark)).toEqual([])
  })

  it('replays an Idempotency-Key retry with one upstream create', async () => {
    const key = randomUUID()
    const mark = await h.ledgerLength()
    const first = await h.call(app, alice, 'POST', '/v1/addresses', office, { 'idempotency-key': key })
    const second = await h.call(app, alice, 'POST', '/v1/addresses', office, { 'idempotency-key': key })
    expect(first.statusCode).toBe(201)
    expect(second.statusCode).toBe(201)
    expect(second.json()).toEqual(first.json())
    expect(await creates(mark)).toHaveLength(1)
  })

  it('maps a Recharge refusal to 422 UPSTREAM_REJECTED', async () => {
    await h.sim.setFaults([{ match: { method: 'POST', path: '^/addresses$' }, status: 422, count: 1 }])
    const response = await h.call(app, alice, 'POST', '/v1/addresses', office)
    expect(response.statusCode).toBe(422)
    expect(response.json().code).toBe('UPSTREAM_REJECTED')
  })

  it('answers a create whose answer was lost as done, with the address read back', async () => {
    await h.sim.setFaults([{ match: { method: 'POST', path: '^/addresses$' }, truncate: true, count: 1 }])
    const mark = await h.ledgerLength()
    const response = await h.call(app, alice, 'POST', '/v1/addresses', office, { 'idempotency-key': randomUUID() })
    expect(response.statusCode).toBe(201)
    const created = (await addressesOf(aliceId)).find((row) => row.address1 === office.address1)
    expect(response.json().id).toBe(String(created?.id))
    expect(await creates(mark)).toHaveLength(1)
  })
})

describe('POST /v1/subscriptions/:id/change-address', () => {
  it('moves a subscription to another of the shopper’s addresses', async () => {
    const subscription = await activeSubscriptionOf(aliceId)
    const target = (await addressesOf(aliceId)).find((row) => row.id !== subscription.address_id)
    expect(target).toBeDefined()
    const response = await h.call(app, alice, 'POST', `/v1/subscriptions/${subscription.id}/change-address`, {
      address_id: String(target?.id),
    })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual(
      expect.objectContaining({ id: String(subscription.id), address_id: String(target?.id) }),
    )
    const moved = (await h.sim.state()).subscriptions.find((row) => row.id === subscription.id)
    expect(moved?.address_id).toBe(target?.id)
    const listed = (await h.call(app, alice, 'GET', `/v1/subscriptions/${subscription.id}`)).json()
    expect(listed.address_id).toBe(String(target?.id))
  })

  it("answers 404 for another shopper's address or subscription, with no upstream call", async () => {
    const own = await activeSubscriptionOf(aliceId)
    const bobs = await activeSubscriptionOf(bobId)
    const bobAddress = (await addressesOf(bobId))[0]
    const aliceOther = (await addressesOf(aliceId)).find((row) => row.id !== own.address_id)
    await h.call(app, alice, 'GET', '/v1/subscriptions')
    await h.call(app, alice, 'GET', '/v1/addresses')
    const mark = await h.ledgerLength()
    const foreignAddress = await h.call(app, alice, 'POST', `/v1/subscriptions/${own.id}/change-address`, {
      address_id: String(bobAddress?.id),
    })
    const foreignSubscription = await h.call(app, alice, 'POST', `/v1/subscriptions/${bobs.id}/change-address`, {
      address_id: String(aliceOther?.id),
    })
    expect(foreignAddress.statusCode).toBe(404)
    expect(foreignSubscription.statusCode).toBe(404)
    expect(await h.upstreamSince(mark)).toEqual([])
  })

  it('answers 403 under a policy without change_address, and 422 when it already ships there', async () => {
    const subscription = await activeSubscriptionOf(aliceId)
    const strict = await h.bridge({ actions: { change_address: false } })
    const token = await h.mint(strict, 'alice@example.com')
    const path = `/v1/subscriptions/${subscription.id}/change-address`
    const body = { address_id: String(subscription.address_id) }
    const refused = await h.call(strict, token, 'POST', path, body)
    expect(refused.statusCode).toBe(403)
    expect(refused.json().action).toBe('change_address')
    const same = await h.call(app, alice, 'POST', path, body)
    expect(same.statusCode).toBe(422)
    expect(same.json().code).toBe('UNPROCESSABLE')
  })

  it('replays an Idempotency-Key retry with one upstream write, and reads back a lost answer', async () => {
    const subscription = await activeSubscriptionOf(aliceId)
    const target = (await addressesOf(aliceId)).find((row) => row.id !== subscription.address_id)
    const path = `/v1/subscriptions/${subscription.id}/change-address`
    const writes = async (mark: number) =>
      (await h.upstreamSince(mark)).filter((call) => call.endsWith('/change_address'))
    const key = randomUUID()
    let mark = await h.ledgerLength()
    const first = await h.call(app, alice, 'POST', path, { address_id: String(target?.id) }, { 'idempotency-key': key })
    const second = await h.call(
      app,
      alice,
      'POST',
      path,
      { address_id: String(target?.id) },
      { 'idempotency-key': key },
    )
    expect(first.statusCode).toBe(200)
    expect(second.json()).toEqual(first.json())
    expect(await writes(mark)).toHaveLength(1)

    // Back to where it was, with the answer lost after Recharge applied it.
    await h.sim.setFaults([{ match: { method: 'POST', path: '/subscriptions' }, truncate: true, count: 1 }])
    mark = await h.ledgerLength()
    const back = await h.call(app, alice, 'POST', path, { address_id: String(subscription.address_id) })
    expect(back.statusCode).toBe(200)
    expect(back.json().address_id).toBe(String(subscription.address_id))
    expect(await writes(mark)).toHaveLength(1)
  })
})
