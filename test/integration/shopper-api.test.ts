import { randomBytes, randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { SignJWT, UnsecuredJWT } from 'jose'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { RedisClient } from '../../src/infra/redis.ts'
import { testConfig } from '../support/config.ts'
import { connectRedis, deleteKeys, redisUrl } from '../support/redis.ts'
import { type SimSnapshot, startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * The shopper API over HTTP against the simulator and a real Redis: every action changes the simulator's state the
 * way Recharge would; foreign ids get 404 with no upstream call for them (the simulator's ledger); bad tokens get
 * 401; a repeated Idempotency-Key reaches Recharge once; the store policy is enforced with 403 ACTION_NOT_ALLOWED.
 */
const namespace = `t${randomBytes(4).toString('hex')}-`
const secret = 'test-customer-token-secret-0123456789abcdef'
const adminKey = 'test-admin-key-0123456789abcdef'

let sim: TestSimulator
let redis: RedisClient
let app: FastifyInstance
let alice: string
let bob: string
let aliceId: string
let bobId: string

async function bridge(
  overrides: Record<string, string> = {},
  ns = namespace,
  writesPerMinute?: number,
): Promise<FastifyInstance> {
  const instance = await buildApp(
    testConfig({
      RECHARGE_API_URL: sim.url,
      RECHARGE_API_TOKEN: sim.apiToken,
      RECHARGE_STORE_SUBDOMAIN: sim.storeSubdomain,
      // The simulator below has a large bucket: these tests are about behaviour, not the rate limit.
      RECHARGE_BUCKET_SIZE: '1000',
      RECHARGE_LEAK_RATE: '1000',
      REDIS_URL: redisUrl(),
      ...overrides,
    }),
    { redis, backgroundWorkers: false, shopper: { namespace: ns, ...(writesPerMinute ? { writesPerMinute } : {}) } },
  )
  await instance.ready()
  return instance
}

async function mint(instance: FastifyInstance, email: string): Promise<string> {
  const response = await instance.inject({
    method: 'POST',
    url: '/v1/admin/customer-tokens',
    headers: { authorization: `Bearer ${adminKey}` },
    payload: { email },
  })
  expect(response.statusCode).toBe(201)
  return response.json().token
}

function call(
  token: string,
  method: 'GET' | 'POST' | 'PATCH',
  url: string,
  payload?: object,
  headers: Record<string, string> = {},
  instance = app,
): Promise<LightMyRequestResponse> {
  return instance.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}`, ...headers },
    ...(payload ? { payload } : method === 'GET' ? {} : { payload: {} }),
  })
}

function stateOf<T extends { id: number }>(rows: T[], id: string): T {
  const row = rows.find((candidate) => String(candidate.id) === id)
  if (!row) throw new Error(`no record ${id} in the simulator`)
  return row
}

function subscriptionsOf(state: SimSnapshot, customerId: string) {
  return state.subscriptions.filter((row) => String(row.customer_id) === customerId)
}

/** Upstream calls (method + path) since `since`, from the simulator's ledger. */
async function upstreamSince(since: number): Promise<string[]> {
  const entries = await sim.ledger()
  return entries.slice(since).map((entry) => `${entry.method} ${entry.path}`)
}

async function ledgerLength(): Promise<number> {
  return (await sim.ledger()).length
}

function dateInDays(days: number): string {
  const now = new Date()
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + days)).toISOString().slice(0, 10)
}

beforeAll(async () => {
  sim = await startTestSimulator({ apiTokens: [`sk_test_${namespace}`], bucketSize: 1000, leakRate: 1000 })
  redis = await connectRedis()
  app = await bridge()
  alice = await mint(app, 'alice@example.com')
  bob = await mint(app, 'bob@example.com')
  const state = await sim.state()
  aliceId = String(state.customers.find((row) => row.email === 'alice@example.com')?.id)
  bobId = String(state.customers.find((row) => row.email === 'bob@example.com')?.id)
})

beforeEach(async () => {
  // Fresh simulator records and no cached view of the old ones.
  await sim.reset()
  await app.cache.invalidateTags([`customer:${aliceId}`, `customer:${bobId}`])
})

afterAll(async () => {
  await app?.close()
  await sim?.close()
  await deleteKeys(redis, `rb:${namespace}*`)
  await redis?.close()
})

describe('customer tokens', () => {
  const nowS = () => Math.floor(Date.now() / 1000)
  const sign = (claims: Record<string, unknown>, key = secret, alg = 'HS256') =>
    new SignJWT(claims).setProtectedHeader({ alg }).sign(new TextEncoder().encode(key))

  it('refuses missing, expired, forged, alg=none, wrong-secret and too-long-lived tokens with 401', async () => {
    const genuine = await sign({ sub: 'alice@example.com', iat: nowS(), exp: nowS() + 300 })
    const [header, , signature] = genuine.split('.')
    const forgedPayload = Buffer.from(JSON.stringify({ sub: 'bob@example.com', exp: nowS() + 300 })).toString(
      'base64url',
    )
    const bad = {
      expired: await sign({ sub: 'alice@example.com', iat: nowS() - 3600, exp: nowS() - 120 }),
      forged: `${header}.${forgedPayload}.${signature}`,
      none: new UnsecuredJWT({ sub: 'alice@example.com' }).setExpirationTime(nowS() + 300).encode(),
      wrongSecret: await sign({ sub: 'alice@example.com', exp: nowS() + 300 }, 'another-secret-0123456789abcdef0123'),
      tooLong: await sign({ sub: 'alice@example.com', iat: nowS(), exp: nowS() + 3 * 3600 }),
      noExp: await sign({ sub: 'alice@example.com' }),
      garbage: 'garbage',
    }
    const before = await ledgerLength()
    for (const [name, token] of Object.entries(bad)) {
      const response = await call(token, 'GET', '/v1/subscriptions')
      expect(response.statusCode, name).toBe(401)
      expect(response.headers['content-type'], name).toContain('application/problem+json')
      expect(response.json().code, name).toBe('UNAUTHENTICATED')
      expect(response.headers['www-authenticate'], name).toContain('invalid_token')
    }
    const missing = await app.inject({ method: 'GET', url: '/v1/me' })
    expect(missing.statusCode).toBe(401)
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="recharge-bridge"')
    // None of them reached Recharge.
    expect(await upstreamSince(before)).toEqual([])
    // The genuine token works.
    expect((await call(genuine, 'GET', '/v1/me')).statusCode).toBe(200)
  })

  it('answers 404 CUSTOMER_NOT_FOUND for a valid token naming no Recharge customer', async () => {
    const token = await sign({ sub: 'nobody@example.com', iat: nowS(), exp: nowS() + 300 })
    const response = await call(token, 'GET', '/v1/me')
    expect(response.statusCode).toBe(404)
    expect(response.json().code).toBe('CUSTOMER_NOT_FOUND')
  })

  it('authenticates a known token and customer from memory, yet always asks a replaced identity resolver', async () => {
    expect((await call(alice, 'GET', '/v1/me')).statusCode).toBe(200)
    const before = await ledgerLength()
    // Token verified and customer cached: the second call resolves the shopper without asking Recharge who it is.
    expect((await call(alice, 'GET', '/v1/me')).statusCode).toBe(200)
    expect((await upstreamSince(before)).filter((line) => line === 'GET /customers')).toEqual([])
    const cachedResolve = app.shopperIdentity.resolve
    const asked: string[] = []
    app.shopperIdentity.resolve = async (subject) => {
      asked.push(subject.kind === 'email' ? subject.email : subject.externalCustomerId)
      return null
    }
    try {
      const response = await call(alice, 'GET', '/v1/me')
      expect(response.statusCode).toBe(404)
      expect(response.json().code).toBe('CUSTOMER_NOT_FOUND')
      expect(asked).toEqual(['alice@example.com'])
    } finally {
      app.shopperIdentity.resolve = cachedResolve
    }
    expect((await call(alice, 'GET', '/v1/me')).statusCode).toBe(200)
  })

  it('accepts a token whose sub is the external customer id', async () => {
    const state = await sim.state()
    const external = stateOf(state.customers, aliceId).external_customer_id.ecommerce as string
    const minted = await app.inject({
      method: 'POST',
      url: '/v1/admin/customer-tokens',
      headers: { authorization: `Bearer ${adminKey}` },
      payload: { external_customer_id: external },
    })
    const me = await call(minted.json().token, 'GET', '/v1/me')
    expect(me.json().email).toBe('alice@example.com')
  })

  it('protects admin routes with the admin key and mints only for known customers', async () => {
    const wrong = await app.inject({
      method: 'POST',
      url: '/v1/admin/customer-tokens',
      headers: { authorization: 'Bearer not-the-admin-key-0123456789' },
      payload: { email: 'alice@example.com' },
    })
    expect(wrong.statusCode).toBe(401)
    // A customer token is not an admin key.
    expect((await call(alice, 'GET', '/v1/admin/customers?email=alice@example.com')).statusCode).toBe(401)
    const unknown = await app.inject({
      method: 'POST',
      url: '/v1/admin/customer-tokens',
      headers: { authorization: `Bearer ${adminKey}` },
      payload: { email: 'nobody@example.com' },
    })
    expect(unknown.json().code).toBe('CUSTOMER_NOT_FOUND')
    const lookup = await app.inject({
      method: 'GET',
      url: '/v1/admin/customers?email=alice@example.com',
      headers: { authorization: `Bearer ${adminKey}` },
    })
    expect(lookup.statusCode).toBe(200)
    expect(lookup.json().customers).toHaveLength(1)
    expect(lookup.json().customers[0]).not.toHaveProperty('hash')
  })
})

describe('reads', () => {
  it('answers the shopper’s own records, allow-listed, cached with X-Cache', async () => {
    const state = await sim.state()
    const me = await call(alice, 'GET', '/v1/me')
    expect(me.json()).toMatchObject({ id: aliceId, email: 'alice@example.com' })
    expect(me.headers['cache-control']).toBe('private, no-store')

    const first = await call(alice, 'GET', '/v1/subscriptions')
    const ids = first
      .json()
      .subscriptions.map((row: { id: string }) => row.id)
      .sort()
    expect(ids).toEqual(
      subscriptionsOf(state, aliceId)
        .map((row) => String(row.id))
        .sort(),
    )
    const second = await call(alice, 'GET', '/v1/subscriptions')
    expect(second.headers['x-cache']).toBe('HIT')
    expect(second.body).toBe(first.body)

    const active = await call(alice, 'GET', '/v1/subscriptions?status=cancelled')
    expect(active.json().subscriptions.every((row: { status: string }) => row.status === 'cancelled')).toBe(true)

    const charges = (await call(alice, 'GET', '/v1/charges')).json().charges
    expect(charges.length).toBeGreaterThan(0)
    expect(charges.every((charge: { status: string }) => ['queued', 'skipped'].includes(charge.status))).toBe(true)
    const orders = (await call(alice, 'GET', '/v1/orders')).json().orders
    expect(orders.length).toBe(state.orders.filter((order) => String(order.customer.id) === aliceId).length)
    const addresses = (await call(alice, 'GET', '/v1/addresses')).json().addresses
    expect(addresses.map((row: { id: string }) => row.id).sort()).toEqual(
      state.addresses
        .filter((row) => String(row.customer_id) === aliceId)
        .map((row) => String(row.id))
        .sort(),
    )
    for (const body of [me.body, first.body, JSON.stringify(charges), JSON.stringify(orders)]) {
      expect(body).not.toMatch(/"hash"|processor_|"payment_method|"customer_id"|"billing_address"/)
    }
  })

  it('costs 5 upstream calls for a cold account page and none for a warm one', async () => {
    const before = await ledgerLength()
    await call(alice, 'GET', '/v1/me')
    await call(alice, 'GET', '/v1/subscriptions')
    const cold = await upstreamSince(before)
    expect(cold.sort()).toEqual([
      'GET /charges',
      'GET /charges',
      'GET /customers',
      `GET /customers/${aliceId}`,
      'GET /subscriptions',
    ])
    const warm = await ledgerLength()
    await call(alice, 'GET', '/v1/me')
    await call(alice, 'GET', '/v1/subscriptions')
    expect(await upstreamSince(warm)).toEqual([])
  })

  it('still lists subscriptions, without skip, when the upcoming charges cannot be read', async () => {
    await sim.setFaults([{ match: { method: 'GET', path: '/charges' }, status: 500 }])
    try {
      const response = await call(alice, 'GET', '/v1/subscriptions')
      expect(response.statusCode).toBe(200)
      const active = response.json().subscriptions.filter((row: { status: string }) => row.status === 'active')
      expect(active.length).toBeGreaterThan(0)
      for (const row of active) {
        expect(row.allowed_actions).not.toContain('skip')
        expect(row.allowed_actions).toContain('cancel')
      }
      // The list says it could not tell skip and unskip, so a storefront can ask for one subscription.
      expect(response.json().actions_complete).toBe(false)
    } finally {
      await sim.clearFaults()
      // The cache remembers a failed fetch for a moment (so replicas do not all repeat it): leave only once skip is
      // offered again, so the next test does not meet that memory.
      await expect
        .poll(
          async () => {
            await app.cache.invalidateTags([`customer:${aliceId}`])
            const rows = (await call(alice, 'GET', '/v1/subscriptions')).json().subscriptions ?? []
            return rows.some((row: { allowed_actions: string[] }) => row.allowed_actions.includes('skip'))
          },
          { timeout: 15_000, interval: 100 },
        )
        .toBe(true)
    }
  })

  it('shows a subscription with the options the shopper may pick from', async () => {
    const subscription = subscriptionsOf(await sim.state(), aliceId).find((row) => row.status === 'active')
    const detail = (await call(alice, 'GET', `/v1/subscriptions/${subscription?.id}`)).json()
    expect(detail.frequency_options.length).toBeGreaterThan(0)
    expect(detail.variant_options.length).toBeGreaterThan(0)
    expect(detail.allowed_actions).toContain('cancel')
    expect(detail.reschedule_window).toEqual({ earliest: dateInDays(1), latest: dateInDays(90) })
  })
})

describe('ownership', () => {
  it('answers 404 for another shopper’s subscription, charge and address ids, with no upstream call for them', async () => {
    const state = await sim.state()
    const bobSubscription = String(subscriptionsOf(state, bobId)[0]?.id)
    const bobAddress = String(state.addresses.find((row) => String(row.customer_id) === bobId)?.id)
    const bobCharge = String(
      state.charges.find((row) => String(row.customer.id) === bobId && row.status === 'queued')?.id,
    )
    // Warm alice's lists so the ownership check itself needs no call.
    await call(alice, 'GET', '/v1/subscriptions')
    await call(alice, 'GET', '/v1/addresses')
    const before = await ledgerLength()
    const attempts: [string, 'GET' | 'POST' | 'PATCH', string, object?][] = [
      ['get subscription', 'GET', `/v1/subscriptions/${bobSubscription}`],
      ['skip', 'POST', `/v1/subscriptions/${bobSubscription}/skip`],
      ['unskip', 'POST', `/v1/subscriptions/${bobSubscription}/unskip`],
      ['cancel', 'POST', `/v1/subscriptions/${bobSubscription}/cancel`, { reason: 'Other' }],
      ['activate', 'POST', `/v1/subscriptions/${bobSubscription}/activate`],
      ['patch subscription', 'PATCH', `/v1/subscriptions/${bobSubscription}`, { quantity: 2 }],
      ['get charge', 'GET', `/v1/charges/${bobCharge}`],
      ['get address', 'GET', `/v1/addresses/${bobAddress}`],
      ['patch address', 'PATCH', `/v1/addresses/${bobAddress}`, { city: 'Elsewhere' }],
      ['unknown id', 'GET', '/v1/subscriptions/999999999'],
    ]
    for (const [name, method, url, body] of attempts) {
      const response = await call(alice, method, url, body)
      expect(response.statusCode, name).toBe(404)
      expect(response.json().code, name).toBe('NOT_FOUND')
    }
    const calls = await upstreamSince(before)
    for (const id of [bobSubscription, bobCharge, bobAddress, '999999999']) {
      expect(calls.filter((line) => line.includes(id))).toEqual([])
    }
    // Nothing of bob's changed.
    expect(subscriptionsOf(await sim.state(), bobId)).toEqual(subscriptionsOf(state, bobId))
  })
})

describe('self-serve actions change Recharge state', () => {
  async function activeWithQueuedCharge(customerId: string) {
    const state = await sim.state()
    for (const subscription of subscriptionsOf(state, customerId)) {
      if (subscription.status !== 'active') continue
      const charge = state.charges.find(
        (row) => row.status === 'queued' && row.line_items.some((item) => item.purchase_item_id === subscription.id),
      )
      if (charge) return { subscription, charge, state }
    }
    throw new Error('no active subscription with a queued charge')
  }

  it('skips and unskips the next delivery', async () => {
    const { subscription, charge } = await activeWithQueuedCharge(aliceId)
    const id = String(subscription.id)
    const skipped = await call(alice, 'POST', `/v1/subscriptions/${id}/skip`)
    expect(skipped.statusCode).toBe(200)
    let state = await sim.state()
    const afterSkip = stateOf(state.subscriptions, id)
    expect(afterSkip.next_charge_scheduled_at).not.toBe(subscription.next_charge_scheduled_at)
    expect(
      state.charges.some(
        (row) =>
          row.status === 'skipped' &&
          row.scheduled_at === charge.scheduled_at &&
          row.line_items.some((item) => item.purchase_item_id === subscription.id),
      ),
    ).toBe(true)
    expect(skipped.json().next_charge_date).toBe(afterSkip.next_charge_scheduled_at?.slice(0, 10))
    expect(skipped.json().allowed_actions).toContain('unskip')

    const restored = await call(alice, 'POST', `/v1/subscriptions/${id}/unskip`)
    expect(restored.statusCode).toBe(200)
    state = await sim.state()
    expect(stateOf(state.subscriptions, id).next_charge_scheduled_at).toBe(subscription.next_charge_scheduled_at)
    // The write invalidated the cached list: the next read shows the new state.
    const list = await call(alice, 'GET', '/v1/subscriptions')
    expect(list.headers['x-cache']).toBe('MISS')
  })

  it('reschedules inside the window only', async () => {
    const { subscription } = await activeWithQueuedCharge(aliceId)
    const id = String(subscription.id)
    const target = dateInDays(20)
    const moved = await call(alice, 'PATCH', `/v1/subscriptions/${id}`, { next_charge_date: target })
    expect(moved.statusCode).toBe(200)
    expect(stateOf((await sim.state()).subscriptions, id).next_charge_scheduled_at?.slice(0, 10)).toBe(target)

    const before = await ledgerLength()
    for (const date of [dateInDays(0), dateInDays(200), '2026-02-30']) {
      const refused = await call(alice, 'PATCH', `/v1/subscriptions/${id}`, { next_charge_date: date })
      expect(refused.statusCode, date).toBe(422)
      expect(refused.json().errors[0].field).toBe('body.next_charge_date')
    }
    expect((await upstreamSince(before)).filter((line) => !line.startsWith('GET'))).toEqual([])
  })

  it('changes frequency only to one the product plans offer, and quantity within bounds', async () => {
    const { subscription } = await activeWithQueuedCharge(aliceId)
    const id = String(subscription.id)
    const detail = (await call(alice, 'GET', `/v1/subscriptions/${id}`)).json()
    const other = detail.frequency_options.find(
      (option: { unit: string; every: number }) =>
        option.unit !== detail.frequency.unit || option.every !== detail.frequency.every,
    )
    expect(other).toBeDefined()
    const changed = await call(alice, 'PATCH', `/v1/subscriptions/${id}`, {
      frequency: { unit: other.unit, every: other.every },
      quantity: 3,
    })
    expect(changed.statusCode).toBe(200)
    const after = stateOf((await sim.state()).subscriptions, id)
    expect([after.order_interval_unit, after.order_interval_frequency, after.quantity]).toEqual([
      other.unit,
      other.every,
      3,
    ])

    const before = await ledgerLength()
    const notOffered = await call(alice, 'PATCH', `/v1/subscriptions/${id}`, { frequency: { unit: 'day', every: 3 } })
    expect(notOffered.statusCode).toBe(422)
    expect(notOffered.json().errors[0].field).toBe('body.frequency')
    const tooMany = await call(alice, 'PATCH', `/v1/subscriptions/${id}`, { quantity: 11 })
    expect(tooMany.statusCode).toBe(422)
    expect(tooMany.json().errors[0].field).toBe('body.quantity')
    expect((await upstreamSince(before)).filter((line) => line.startsWith('PUT'))).toEqual([])
  })

  it('swaps only to variants of the subscribed catalog product', async () => {
    const { subscription } = await activeWithQueuedCharge(aliceId)
    const id = String(subscription.id)
    const detail = (await call(alice, 'GET', `/v1/subscriptions/${id}`)).json()
    const variant = detail.variant_options.find(
      (option: { external_variant_id: string }) => option.external_variant_id !== detail.external_variant_id,
    )
    const swapped = await call(alice, 'PATCH', `/v1/subscriptions/${id}`, {
      external_variant_id: variant.external_variant_id,
    })
    expect(swapped.statusCode).toBe(200)
    const after = stateOf((await sim.state()).subscriptions, id)
    expect(after.external_variant_id.ecommerce).toBe(variant.external_variant_id)
    expect(after.variant_title).toBe(variant.title)

    const foreign = await call(alice, 'PATCH', `/v1/subscriptions/${id}`, { external_variant_id: '7200000099' })
    expect(foreign.statusCode).toBe(422)
  })

  it('cancels with a required reason from the store list, then reactivates', async () => {
    const { subscription } = await activeWithQueuedCharge(aliceId)
    const id = String(subscription.id)
    expect((await call(alice, 'POST', `/v1/subscriptions/${id}/cancel`, {})).statusCode).toBe(400)
    const unknownReason = await call(alice, 'POST', `/v1/subscriptions/${id}/cancel`, { reason: 'Because' })
    expect(unknownReason.statusCode).toBe(422)
    expect(unknownReason.json().errors[0].field).toBe('body.reason')

    const cancelled = await call(alice, 'POST', `/v1/subscriptions/${id}/cancel`, {
      reason: 'Too expensive',
      comment: 'Will be back',
    })
    expect(cancelled.statusCode).toBe(200)
    expect(cancelled.json().allowed_actions).toEqual(['activate'])
    let state = await sim.state()
    expect(stateOf(state.subscriptions, id)).toMatchObject({
      status: 'cancelled',
      cancellation_reason: 'Too expensive',
      cancellation_reason_comments: 'Will be back',
    })
    // Recharge drops the cancelled subscription from queued charges.
    expect(
      state.charges.some(
        (row) => row.status === 'queued' && row.line_items.some((item) => item.purchase_item_id === subscription.id),
      ),
    ).toBe(false)

    const activated = await call(alice, 'POST', `/v1/subscriptions/${id}/activate`)
    expect(activated.statusCode).toBe(200)
    state = await sim.state()
    expect(stateOf(state.subscriptions, id).status).toBe('active')
  })

  it('updates a shipping address', async () => {
    const state = await sim.state()
    const address = state.addresses.find((row) => String(row.customer_id) === aliceId)
    const updated = await call(alice, 'PATCH', `/v1/addresses/${address?.id}`, {
      address1: '1 New Street',
      city: 'Portland',
    })
    expect(updated.statusCode).toBe(200)
    expect(updated.json()).toMatchObject({ address1: '1 New Street', city: 'Portland' })
    expect(stateOf((await sim.state()).addresses, String(address?.id))).toMatchObject({
      address1: '1 New Street',
      city: 'Portland',
    })
  })
})

describe('Idempotency-Key on writes', () => {
  it('replays a repeated write without reaching Recharge again', async () => {
    const state = await sim.state()
    const subscription = subscriptionsOf(state, aliceId).find((row) => row.status === 'active')
    const key = randomUUID()
    const before = await ledgerLength()
    const first = await call(
      alice,
      'PATCH',
      `/v1/subscriptions/${subscription?.id}`,
      { quantity: 4 },
      { 'idempotency-key': key },
    )
    const again = await call(
      alice,
      'PATCH',
      `/v1/subscriptions/${subscription?.id}`,
      { quantity: 4 },
      { 'idempotency-key': key },
    )
    expect(first.statusCode).toBe(200)
    expect(again.statusCode).toBe(200)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.body).toBe(first.body)
    expect((await upstreamSince(before)).filter((line) => line.startsWith('PUT'))).toHaveLength(1)

    const reused = await call(
      alice,
      'PATCH',
      `/v1/subscriptions/${subscription?.id}`,
      { quantity: 5 },
      { 'idempotency-key': key },
    )
    expect(reused.statusCode).toBe(422)
    expect(reused.json().code).toBe('IDEMPOTENCY_KEY_REUSED')
    // Keys belong to their shopper: bob's identical key is his own (and alice's subscription is not his: 404).
    const bobs = await call(
      bob,
      'PATCH',
      `/v1/subscriptions/${subscription?.id}`,
      { quantity: 4 },
      { 'idempotency-key': key },
    )
    expect(bobs.statusCode).toBe(404)
  })

  it('shares keys across replicas through Redis', async () => {
    const replica = await bridge()
    try {
      const subscription = subscriptionsOf(await sim.state(), aliceId).find((row) => row.status === 'active')
      const key = randomUUID()
      const before = await ledgerLength()
      const url = `/v1/subscriptions/${subscription?.id}`
      const first = await call(alice, 'PATCH', url, { quantity: 3 }, { 'idempotency-key': key })
      const second = await call(alice, 'PATCH', url, { quantity: 3 }, { 'idempotency-key': key }, replica)
      expect(first.statusCode).toBe(200)
      expect(second.headers['idempotent-replayed']).toBe('true')
      expect(second.body).toBe(first.body)
      expect((await upstreamSince(before)).filter((line) => line.startsWith('PUT'))).toHaveLength(1)
    } finally {
      await replica.close()
    }
  })

  it('lets one of three concurrent same-key skips through to Recharge', async () => {
    const state = await sim.state()
    const subscription = subscriptionsOf(state, aliceId).find((row) => row.status === 'active')
    await call(alice, 'GET', '/v1/subscriptions') // warm: both requests race on the write itself
    await call(alice, 'GET', '/v1/charges')
    const key = randomUUID()
    const before = await ledgerLength()
    const responses = await Promise.all(
      [1, 2, 3].map(() =>
        call(alice, 'POST', `/v1/subscriptions/${subscription?.id}/skip`, {}, { 'idempotency-key': key }),
      ),
    )
    const statuses = responses.map((response) => response.statusCode)
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(1)
    expect(statuses.every((status) => status === 200 || status === 409)).toBe(true)
    for (const response of responses.filter((r) => r.statusCode === 409)) {
      expect(response.json().code).toBe('IDEMPOTENCY_KEY_IN_USE')
    }
    expect((await upstreamSince(before)).filter((line) => line.endsWith('/skip'))).toHaveLength(1)
  })
})

describe('store policy', () => {
  let strict: FastifyInstance
  let strictAlice: string

  beforeAll(async () => {
    const file = join(tmpdir(), `policy-${namespace}.json`)
    writeFileSync(
      file,
      JSON.stringify({
        actions: { skip: false, swap_variant: false },
        cancel: { reasons: ['Too expensive', 'Other'], minimum_charges_before_cancel: 50 },
        quantity: { min: 1, max: 2 },
      }),
    )
    strict = await bridge({ POLICY_FILE: file }, `${namespace}strict-`)
    strictAlice = await mint(strict, 'alice@example.com')
  })
  afterAll(async () => {
    await strict?.close()
  })

  it('answers 403 ACTION_NOT_ALLOWED with a readable detail, before any upstream write', async () => {
    const subscription = subscriptionsOf(await sim.state(), aliceId).find((row) => row.status === 'active')
    const id = String(subscription?.id)
    await strict.cache.invalidateTags([`customer:${aliceId}`])
    const before = await ledgerLength()
    const skip = await call(strictAlice, 'POST', `/v1/subscriptions/${id}/skip`, {}, {}, strict)
    expect(skip.statusCode).toBe(403)
    expect(skip.json()).toMatchObject({ code: 'ACTION_NOT_ALLOWED', action: 'skip' })
    expect(skip.json().detail).toMatch(/Skipping a delivery is not offered/)
    const swap = await call(strictAlice, 'PATCH', `/v1/subscriptions/${id}`, { external_variant_id: '1' }, {}, strict)
    expect(swap.json().code).toBe('ACTION_NOT_ALLOWED')
    const cancel = await call(strictAlice, 'POST', `/v1/subscriptions/${id}/cancel`, { reason: 'Other' }, {}, strict)
    expect(cancel.statusCode).toBe(403)
    expect(cancel.json().detail).toMatch(/after 50 deliveries/)
    const quantity = await call(strictAlice, 'PATCH', `/v1/subscriptions/${id}`, { quantity: 3 }, {}, strict)
    expect(quantity.statusCode).toBe(422)
    expect((await upstreamSince(before)).filter((line) => !line.startsWith('GET'))).toEqual([])
    const detail = (await call(strictAlice, 'GET', `/v1/subscriptions/${id}`, undefined, {}, strict)).json()
    expect(detail.allowed_actions).not.toContain('skip')
    expect(detail.cancellation_reasons).toEqual(['Too expensive', 'Other'])
    expect(detail.quantity_bounds).toEqual({ min: 1, max: 2 })
  })
})

describe('swap to another catalog product', () => {
  it('is refused by default and allowed with swap.scope = catalog, with the new product’s plan and price', async () => {
    const subscription = subscriptionsOf(await sim.state(), aliceId).find((row) => row.status === 'active')
    const id = String(subscription?.id)
    const other = (await app.catalog.listProducts({ limit: 50 })).products.find(
      (product) =>
        product.external_product_id !== subscription?.external_product_id.ecommerce &&
        product.plans.some((plan) => plan.type === 'subscription') &&
        product.variants.length > 0,
    )
    if (!other) throw new Error('the seed has no second subscription product')
    const plan = other.plans.find((candidate) => candidate.type === 'subscription')
    const body = {
      external_product_id: other.external_product_id,
      external_variant_id: other.variants[0]?.external_variant_id,
      frequency: { unit: plan?.interval_unit, every: plan?.order_interval_frequency },
    }
    const refused = await call(alice, 'PATCH', `/v1/subscriptions/${id}`, body)
    expect(refused.statusCode).toBe(403)
    expect(refused.json().code).toBe('ACTION_NOT_ALLOWED')

    const file = join(tmpdir(), `policy-catalog-${namespace}.json`)
    writeFileSync(file, JSON.stringify({ swap: { scope: 'catalog' } }))
    const open = await bridge({ POLICY_FILE: file }, `${namespace}catalog-`)
    try {
      const token = await mint(open, 'alice@example.com')
      const swapped = await call(token, 'PATCH', `/v1/subscriptions/${id}`, body, {}, open)
      expect(swapped.statusCode).toBe(200)
      const after = stateOf((await sim.state()).subscriptions, id)
      expect(after.external_product_id.ecommerce).toBe(other.external_product_id)
      expect(after.external_variant_id.ecommerce).toBe(body.external_variant_id)
      expect(after.product_title).toBe(other.title)
      const expectedPrice = other.variants[0]?.prices[0]?.plans.find((entry) => entry.id === plan?.id)?.discounted_price
      expect(after.price).toBe(expectedPrice)
      // Without a variant of the new product: 422, nothing sent.
      const before = await ledgerLength()
      const partial = await call(
        token,
        'PATCH',
        `/v1/subscriptions/${id}`,
        { external_product_id: '7100000001' },
        {},
        open,
      )
      expect(partial.statusCode).toBe(422)
      expect((await upstreamSince(before)).filter((line) => !line.startsWith('GET'))).toEqual([])
    } finally {
      await open.close()
    }
  })
})

describe('per-shopper write budget', () => {
  it('answers 429 RATE_LIMITED past the budget, before any upstream call; replays do not count', async () => {
    const limited = await bridge({}, `${namespace}limited-`, 2)
    try {
      const token = await mint(limited, 'alice@example.com')
      const subscription = subscriptionsOf(await sim.state(), aliceId).find((row) => row.status === 'active')
      const url = `/v1/subscriptions/${subscription?.id}`
      const key = randomUUID()
      expect((await call(token, 'PATCH', url, { quantity: 2 }, { 'idempotency-key': key }, limited)).statusCode).toBe(
        200,
      )
      const replay = await call(token, 'PATCH', url, { quantity: 2 }, { 'idempotency-key': key }, limited)
      expect(replay.headers['idempotent-replayed']).toBe('true')
      expect((await call(token, 'PATCH', url, { quantity: 3 }, {}, limited)).statusCode).toBe(200)
      const before = await ledgerLength()
      const refused = await call(token, 'PATCH', url, { quantity: 4 }, {}, limited)
      expect(refused.statusCode).toBe(429)
      expect(refused.json().code).toBe('RATE_LIMITED')
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0)
      expect(await upstreamSince(before)).toEqual([])
      // Another shopper has a budget of their own.
      const bobToken = await mint(limited, 'bob@example.com')
      const bobSubscription = subscriptionsOf(await sim.state(), bobId).find((row) => row.status === 'active')
      const bobs = await call(
        bobToken,
        'PATCH',
        `/v1/subscriptions/${bobSubscription?.id}`,
        { quantity: 2 },
        {},
        limited,
      )
      expect(bobs.statusCode).toBe(200)
    } finally {
      await limited.close()
    }
  })
})

describe('hosted portal hand-off', () => {
  it('answers the portal URL, and a single-use link that redirects once', async () => {
    const customer = stateOf((await sim.state()).customers, aliceId)
    const expected = `https://${sim.storeSubdomain}.admin.rechargeapps.com/portal/${customer.hash}/subscriptions`
    const url = await call(alice, 'GET', '/v1/portal/url')
    expect(url.json()).toEqual({ url: expected })
    expect(url.headers['cache-control']).toBe('private, no-store')

    const link = await call(alice, 'POST', '/v1/portal/links')
    const { url: linkUrl, expires_at } = link.json()
    expect(linkUrl).toMatch(/^https:\/\/bridge\.example\/v1\/portal\/redirect\?token=[\w-]{43}$/)
    expect(new Date(expires_at).getTime() - Date.now()).toBeLessThanOrEqual(120_000)
    const path = new URL(linkUrl).pathname + new URL(linkUrl).search
    // A plain link: no Authorization header.
    const redirect = await app.inject({ method: 'GET', url: path })
    expect(redirect.statusCode).toBe(302)
    expect(redirect.headers.location).toBe(expected)
    expect(redirect.headers['referrer-policy']).toBe('no-referrer')
    const replay = await app.inject({ method: 'GET', url: path })
    expect(replay.statusCode).toBe(410)
    expect(replay.json().code).toBe('PORTAL_LINK_INVALID')
    expect(replay.body).not.toContain(customer.hash)
    expect((await app.inject({ method: 'GET', url: '/v1/portal/redirect?token=forged' })).statusCode).toBe(410)
    // A browser following a stale link gets a page a person can read.
    const page = await app.inject({ method: 'GET', url: path, headers: { accept: 'text/html,*/*' } })
    expect(page.statusCode).toBe(410)
    expect(page.headers['content-type']).toContain('text/html')
    expect(page.body).toContain('Manage Subscriptions')
  })
})
