import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppDeps } from '../../src/app.ts'
import { uniquePrefix } from '../support/redis.ts'
import { type ShopperHarness, startShopperHarness } from '../support/shopper-harness.ts'
import { until } from '../support/until.ts'

/**
 * The account mirror (MIRROR=on) over HTTP against the simulator and a real Redis: while it warms, reads go to
 * Recharge; once ready, an account view costs no upstream call; webhooks keep it fresh (an older payload after a
 * newer one changes nothing); the shopper's own writes show at once; a foreign id stays 404 with no upstream call;
 * no payment token ever reaches Redis.
 */
const clientSecret = 'sim_whsec_mirror_0001'
const adminKey = 'test-admin-key-0123456789abcdef'
let h: ShopperHarness
/** Follows the mirror and serves shoppers; never leads the sync. */
let app: FastifyInstance
let url: string

/** `namespace`: the mirror's keys; bridges that share it share one mirror. */
function mirrorDeps(sync: boolean, namespace = h.namespace): Partial<AppDeps> {
  return {
    backgroundWorkers: true,
    webhooks: { keyPrefix: uniquePrefix('mirror-webhooks'), watchdog: false },
    mirror: { namespace, sync, tickMs: 50, statusMs: 50 },
  }
}

const mirrorEnv = { RECHARGE_WEBHOOK_SECRET: clientSecret, MIRROR: 'on', MIRROR_RECONCILE_SECONDS: '3600' }

async function status(instance = app) {
  const response = await instance.inject({
    method: 'GET',
    url: '/v1/admin/mirror',
    headers: { authorization: `Bearer ${adminKey}` },
  })
  expect(response.statusCode).toBe(200)
  return response.json()
}

/** Deliver what the simulator has pending and wait until the bridge has processed it. */
async function deliver(): Promise<void> {
  await h.sim.deliverWebhooks()
  await until(async () => (await app.webhooks.intakeQueue.pending()) === 0)
}

beforeAll(async () => {
  h = await startShopperHarness('mir', { clientSecret, webhookAutoDeliver: false })
  app = await h.bridge(undefined, mirrorDeps(false), mirrorEnv)
  url = await app.listen({ port: 0, host: '127.0.0.1' })
  for (const topic of [
    'subscription/updated',
    'subscription/skipped',
    'charge/updated',
    'address/updated',
    'customer/updated',
    'customer/deleted',
    'subscription/deleted',
  ]) {
    const created = await h.sim.api('POST', '/webhooks', { address: `${url}/v1/webhooks/recharge`, topic })
    expect(created.status).toBe(201)
  }
})

afterAll(async () => {
  await h?.close()
})

/** A customer of the seed with an active subscription and no payment trouble (their /v1/me reads nothing else). */
async function healthyCustomer(except: string[] = [], last = false) {
  const state = await h.sim.state()
  const customer = state.customers[last ? 'findLast' : 'find'](
    (row) =>
      !except.includes(row.email) &&
      row.has_payment_method_in_dunning !== true &&
      row.has_valid_payment_method !== false &&
      state.subscriptions.some((sub) => sub.customer_id === row.id && String(sub.status).toLowerCase() === 'active'),
  )
  if (!customer) throw new Error('no healthy customer in the seed')
  const subscription = state.subscriptions.find(
    (sub) => sub.customer_id === customer.id && String(sub.status).toLowerCase() === 'active',
  )
  return { email: customer.email, id: String(customer.id), subscription: subscription as { id: number } }
}

describe('the account mirror while it warms', () => {
  it('reads answer through Recharge and the state says warming', async () => {
    // A mirror of its own that no replica leads: it never leaves warming.
    const follower = await h.bridge(undefined, mirrorDeps(false, `${h.namespace}warming-`), mirrorEnv)
    expect((await status(follower)).state).toBe('warming')
    const { email } = await healthyCustomer()
    const since = await h.ledgerLength()
    const token = await h.mint(follower, email)
    const response = await h.call(follower, token, 'GET', '/v1/subscriptions')
    expect(response.statusCode).toBe(200)
    expect((await h.upstreamSince(since)).length).toBeGreaterThan(0)
  })
})

/** What the leader's first full pass produced, and the store it read (the tests below may change both). */
let atReady: { figures: Record<string, unknown>; state: Awaited<ReturnType<ShopperHarness['sim']['state']>> }

describe('the account mirror once ready', () => {
  beforeAll(async () => {
    const leader = await h.bridge(undefined, mirrorDeps(true), mirrorEnv)
    await until(async () => (await status()).state === 'ready', 30_000, 'mirror ready')
    atReady = { figures: await status(), state: await h.sim.state() }
    await leader.close()
  })

  it('a leader fills it; once ready, token, /v1/me, /v1/subscriptions and /v1/charges cost no upstream call', async () => {
    const { figures } = atReady
    let { state } = atReady
    expect(figures.customers).toBe(state.customers.length)
    expect(figures.subscriptions).toBe(state.subscriptions.length)
    expect(figures.charges).toBe(
      state.charges.filter((row) => ['QUEUED', 'SKIPPED'].includes(String(row.status).toUpperCase())).length,
    )
    expect(figures.last_reconciled_at).not.toBeNull()

    // The store as it is now: the tests that ran before may have changed it (through webhooks the mirror applied).
    state = await h.sim.state()
    const { email, id } = await healthyCustomer(['alice@example.com'])
    const since = await h.ledgerLength()
    const token = await h.mint(app, email)
    const me = await h.call(app, token, 'GET', '/v1/me')
    expect(me.statusCode).toBe(200)
    expect(me.json().id).toBe(id)
    const subscriptions = await h.call(app, token, 'GET', '/v1/subscriptions')
    expect(subscriptions.statusCode).toBe(200)
    const mine = state.subscriptions.filter((row) => String(row.customer_id) === id).map((row) => String(row.id))
    expect(
      subscriptions
        .json()
        .subscriptions.map((row: { id: string }) => row.id)
        .sort(),
    ).toEqual(mine.sort())
    const charges = await h.call(app, token, 'GET', '/v1/charges')
    expect(charges.statusCode).toBe(200)
    const mineCharges = state.charges
      .filter(
        (row) => String(row.customer.id) === id && ['queued', 'skipped'].includes(String(row.status).toLowerCase()),
      )
      .map((row) => String(row.id))
    expect(
      charges
        .json()
        .charges.map((row: { id: string }) => row.id)
        .sort(),
    ).toEqual(mineCharges.sort())
    const methods = await h.call(app, token, 'GET', '/v1/payment-methods')
    expect(methods.statusCode).toBe(200)
    expect(methods.json().payment_methods.length).toBeGreaterThan(0)
    const lookup = await app.inject({
      method: 'GET',
      url: `/v1/admin/customers?email=${encodeURIComponent(email)}`,
      headers: { authorization: `Bearer ${adminKey}` },
    })
    expect(lookup.json().customers.map((row: { id: string }) => row.id)).toEqual([id])
    expect(await h.upstreamSince(since)).toEqual([])
  })

  it('reports its figures in /metrics; with MIRROR=off the admin route is 404', async () => {
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
    expect(metrics).toMatch(/^recharge_bridge_mirror_state\{state="ready"\} 1$/m)
    expect(metrics).toMatch(/^recharge_bridge_mirror_records\{kind="customers"\} [1-9]/m)
    const off = await h.bridge()
    expect(off.mirror).toBeNull()
    const response = await off.inject({
      method: 'GET',
      url: '/v1/admin/mirror',
      headers: { authorization: `Bearer ${adminKey}` },
    })
    expect(response.statusCode).toBe(404)
  })

  it('a foreign id is 404 with no upstream call', async () => {
    const mine = await healthyCustomer()
    const other = await healthyCustomer([mine.email])
    const token = await h.mint(app, mine.email)
    const since = await h.ledgerLength()
    const response = await h.call(app, token, 'GET', `/v1/subscriptions/${other.subscription.id}`)
    expect(response.statusCode).toBe(404)
    expect(response.json().code).toBe('NOT_FOUND')
    expect(await h.upstreamSince(since)).toEqual([])
  })

  it('webhooks keep it fresh, and an older payload after a newer one changes nothing', async () => {
    const { email, subscription } = await healthyCustomer()
    const id = String(subscription.id)
    const before = (await h.sim.api('GET', `/subscriptions/${id}`)).body.subscription
    const token = await h.mint(app, email)
    const quantity = async () => (await h.call(app, token, 'GET', `/v1/subscriptions/${id}`)).json().quantity as number
    // Recharge's updated_at counts whole seconds: a change in the same second as the version it replaces would tie
    // with it (docs/mirror.md, limits). The change lands a second later, as a shopper's would.
    await h.sim.advanceClock(1_000)
    const changed = await h.sim.api('PUT', `/subscriptions/${id}`, { quantity: before.quantity + 4 })
    expect(changed.status).toBe(200)
    await deliver()
    await until(async () => (await quantity()) === before.quantity + 4, 15_000, 'webhook applied')
    const lag = (await status()).lag_ms
    expect(typeof lag).toBe('number')

    // The same record as it was before the change, delivered late: older updated_at, so nothing changes.
    await app.mirror?.applyEvent('subscription/updated', 'subscription', before, Date.now())
    expect(await quantity()).toBe(before.quantity + 4)
  })

  it('a deleted subscription leaves the mirror; a replayed deletion of a live one and a late update change nothing', async () => {
    // The last healthy customer: the other tests use the first ones.
    const { email, subscription } = await healthyCustomer([], true)
    const id = String(subscription.id)
    const record = (await h.sim.api('GET', `/subscriptions/${id}`)).body.subscription
    const token = await h.mint(app, email)
    const listed = async () =>
      (await h.call(app, token, 'GET', '/v1/subscriptions'))
        .json()
        .subscriptions.some((row: { id: string }) => row.id === id)
    expect(await listed()).toBe(true)

    // A signed body re-posted under a deletion topic (no signature covers the topic): Recharge still has it.
    await app.mirror?.applyEvent('subscription/deleted', 'subscription', record, Date.now())
    expect(await listed()).toBe(true)

    expect((await h.sim.api('DELETE', `/subscriptions/${id}`)).status).toBe(204)
    await deliver()
    await until(async () => !(await listed()), 15_000, 'deletion applied')
    expect((await h.call(app, token, 'GET', `/v1/subscriptions/${id}`)).statusCode).toBe(404)
    await app.mirror?.applyEvent('subscription/updated', 'subscription', record, Date.now())
    expect(await listed()).toBe(false)
  })

  it("the shopper's own write shows at once, read from the mirror", async () => {
    const { email, subscription } = await healthyCustomer()
    const id = String(subscription.id)
    const token = await h.mint(app, email)
    const current = (await h.call(app, token, 'GET', `/v1/subscriptions/${id}`)).json().quantity as number
    const next = current === 1 ? 2 : 1
    const patched = await h.call(app, token, 'PATCH', `/v1/subscriptions/${id}`, { quantity: next })
    expect(patched.statusCode).toBe(200)
    const since = await h.ledgerLength()
    const read = await h.call(app, token, 'GET', `/v1/subscriptions/${id}`)
    expect(read.json().quantity).toBe(next)
    expect(await h.upstreamSince(since)).toEqual([])
  })

  it('customer/deleted forgets the customer: lookups fall back to Recharge', async () => {
    const state = await h.sim.state()
    const customer = state.customers.at(-1) as { id: number; email: string }
    const id = String(customer.id)
    expect(await app.mirror?.store.account(id)).not.toBeNull()
    expect((await h.sim.api('DELETE', `/customers/${id}`)).status).toBe(204)
    await deliver()
    await until(async () => (await app.mirror?.store.account(id)) === null, 15_000, 'customer forgotten')
    expect(await app.mirror?.store.customerIdBy({ email: customer.email })).toBeNull()
    // A late update about them changes nothing.
    await app.mirror?.applyEvent(
      'customer/updated',
      'customer',
      { ...customer, updated_at: new Date().toISOString() },
      Date.now(),
    )
    expect(await app.mirror?.store.account(id)).toBeNull()
  })

  it('holds no payment token, portal hash or email in Redis', async () => {
    const mirror = app.mirror
    if (!mirror) throw new Error('mirror off')
    const state = await h.sim.state()
    const secrets = [
      ...state.customers.map((row) => (row as { hash?: string }).hash).filter(Boolean),
      ...(state as unknown as { payment_methods: Record<string, unknown>[] }).payment_methods.flatMap((row) =>
        [row.processor_customer_token, row.processor_payment_method_token].filter(Boolean),
      ),
    ] as string[]
    expect(secrets.length).toBeGreaterThan(0)
    let values = 0
    for await (const key of mirror.store.keys()) {
      expect(key).not.toMatch(/@/)
      const type = await h.redis.type(key)
      const text =
        type === 'hash' ? JSON.stringify(await h.redis.hGetAll(key)) : type === 'string' ? await h.redis.get(key) : ''
      values += 1
      expect(text).not.toMatch(/processor_(customer|payment_method)_token/)
      for (const secret of secrets) expect(text).not.toContain(secret)
    }
    expect(values).toBeGreaterThan(0)
  })
})
