import { randomBytes, randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { request } from 'undici'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { testConfig } from '../support/config.ts'
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.ts'
import { redisUrl } from '../support/redis.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * Network faults between the bridge and its dependencies, injected by a TCP proxy. For each fault: no request hangs
 * (each must answer well inside the client's patience), the status is the documented one, writes reach Recharge at
 * most once (the simulator's ledger), and everything works again once the fault is gone.
 */
const run = randomBytes(4).toString('hex')
const adminKey = 'test-admin-key-0123456789abcdef'
/** Far beyond any deadline of ours: a request still unanswered by then is a hang. */
const PATIENCE_MS = 15_000

let sim: TestSimulator
let upstreamProxy: FaultProxy
let redisProxy: FaultProxy
let app: FastifyInstance
let base: string
let shopperToken: string
let subscriptionId: string
let productId: string
/** Real products no test reads before its probe: not cached, so the answer must come from Recharge. */
let uncachedProductIds: string[] = []

interface Answer {
  status: number
  contentType: string
  body: Record<string, unknown>
  cache: string | undefined
}

async function call(
  method: 'GET' | 'POST' | 'PATCH',
  path: string,
  headers: Record<string, string> = {},
  body: object = {},
): Promise<Answer> {
  const response = await request(`${base}${path}`, {
    method,
    headers,
    signal: AbortSignal.timeout(PATIENCE_MS),
    ...(method === 'GET'
      ? {}
      : { body: JSON.stringify(body), headers: { ...headers, 'content-type': 'application/json' } }),
  })
  const text = await response.body.text()
  return {
    status: response.statusCode,
    contentType: String(response.headers['content-type'] ?? ''),
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    cache: response.headers['x-cache'] as string | undefined,
  }
}

const shopper = () => ({ authorization: `Bearer ${shopperToken}` })

function expectProblem(answer: Answer, statuses: number[]): void {
  expect(statuses).toContain(answer.status)
  expect(answer.contentType).toMatch(/^application\/problem\+json/)
  expect(answer.body.code).toEqual(expect.any(String))
}

beforeAll(async () => {
  sim = await startTestSimulator({ apiTokens: [`sk_test_resilience_${run}`], bucketSize: 1000, leakRate: 1000 })
  const simUrl = new URL(sim.url)
  upstreamProxy = await startFaultProxy({ host: simUrl.hostname, port: Number(simUrl.port) })
  const redis = new URL(redisUrl())
  redisProxy = await startFaultProxy({ host: redis.hostname, port: Number(redis.port || 6379) })
  app = await buildApp(
    testConfig({
      RECHARGE_API_URL: upstreamProxy.url('http'),
      RECHARGE_API_TOKEN: sim.apiToken,
      RECHARGE_BUCKET_SIZE: '1000',
      RECHARGE_LEAK_RATE: '1000',
      REDIS_URL: redisProxy.url('redis'),
      REDIS_KEY_PREFIX: `test-resilience-${run}`,
      ADMIN_API_KEY: adminKey,
    }),
    { backgroundWorkers: false },
  )
  base = await app.listen({ port: 0, host: '127.0.0.1' })

  const minted = await call('POST', '/v1/admin/customer-tokens', { authorization: `Bearer ${adminKey}` })
  expect(minted.status).toBe(400) // no body fields: validation, proving the admin route is reachable
  const tokenResponse = await request(`${base}/v1/admin/customer-tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'alice@example.com' }),
  })
  shopperToken = ((await tokenResponse.body.json()) as { token: string }).token
  const state = await sim.state()
  const alice = state.customers.find((customer) => customer.email === 'alice@example.com')
  const active = state.subscriptions.find(
    (subscription) => String(subscription.customer_id) === String(alice?.id) && subscription.status === 'active',
  )
  subscriptionId = String(active?.id)
  productId = String(state.products[0]?.external_product_id)
  uncachedProductIds = state.products.slice(1).map((product) => String(product.external_product_id))
})

afterAll(async () => {
  await app?.close()
  await upstreamProxy?.close()
  await redisProxy?.close()
  await sim?.close()
})

/** The scheduled dates of the subscription's skipped deliveries, as Recharge (the simulator) has them. */
async function skippedChargeDates(): Promise<string[]> {
  const state = await sim.state()
  return state.charges
    .filter(
      (charge) =>
        charge.status === 'skipped' &&
        charge.line_items.some((item) => String(item.purchase_item_id) === subscriptionId),
    )
    .map((charge) => charge.scheduled_at.slice(0, 10))
}

/** After a fault is lifted the bridge must come back by itself: in-flight work that began under it may fail first. */
async function recovered(probe: () => Promise<Answer>): Promise<Answer> {
  let last: Answer | undefined
  const status = async () => {
    last = await probe()
    return last.status
  }
  await expect.poll(status, { timeout: PATIENCE_MS, interval: 200 }).toBe(200)
  return last as Answer
}

beforeEach(async () => {
  await upstreamProxy.set({})
  await redisProxy.set({})
  upstreamProxy.dropConnections()
  await sim.clearFaults()
  expect((await recovered(() => call('GET', '/v1/me', shopper()))).status).toBe(200)
  // One probe may wait out a whole PATIENCE_MS on a connection the previous test's fault left behind.
}, 3 * PATIENCE_MS)

describe('faults between the bridge and Recharge', () => {
  it('answers a 503 or 504 problem when Recharge is slower than the deadline, and recovers', async () => {
    await upstreamProxy.set({ latencyMs: 6_000 })
    upstreamProxy.dropConnections()
    // Not cached yet, so the answer must come from (slow) Recharge.
    const slow = await call('GET', `/v1/catalog/products/${uncachedProductIds[0]}`)
    expectProblem(slow, [503, 504])
    await upstreamProxy.set({})
    expect((await recovered(() => call('GET', `/v1/catalog/products/${productId}`))).status).toBe(200)
  })

  it('answers a hung upstream with a 502, 503 or 504 problem, and recovers', async () => {
    await upstreamProxy.set({ hang: true })
    upstreamProxy.dropConnections()
    const hung = await call('GET', `/v1/catalog/products/${uncachedProductIds[1]}`)
    expectProblem(hung, [502, 503, 504])
    await upstreamProxy.set({})
    expect((await recovered(() => call('GET', `/v1/catalog/products/${productId}`))).status).toBe(200)
  })

  it('reads through responses delivered one byte at a time', async () => {
    await upstreamProxy.set({ sliceBytes: 1 })
    upstreamProxy.dropConnections()
    const answer = await call('GET', '/v1/subscriptions', shopper())
    expect(answer.status).toBe(200)
    expect(Array.isArray(answer.body.subscriptions)).toBe(true)
  })

  it('answers a 502, 503 or 504 problem while responses are truncated, and recovers', async () => {
    await upstreamProxy.set({ limitBytes: 120 })
    upstreamProxy.dropConnections()
    const truncated = await call('GET', `/v1/catalog/products/${uncachedProductIds[2]}`)
    expectProblem(truncated, [502, 503, 504])
    await upstreamProxy.set({})
    expect((await recovered(() => call('GET', `/v1/catalog/products/${productId}`))).status).toBe(200)
  })

  it('never sends a write twice when its connection is reset; a same-key retry replays, a new key applies once', async () => {
    const key = randomUUID()
    const skipPath = `/v1/subscriptions/${subscriptionId}/skip`
    // The reads a skip makes first (the subscription, its upcoming charges) are cached now: only the write itself
    // meets the reset, whichever test ran before.
    expect((await call('GET', `/v1/subscriptions/${subscriptionId}`, shopper())).status).toBe(200)
    expect((await call('GET', '/v1/subscriptions', shopper())).status).toBe(200)
    const before = (await sim.ledger({ method: 'POST' })).length
    await upstreamProxy.set({ reset: true })
    upstreamProxy.dropConnections()
    const reset = await call('POST', skipPath, { ...shopper(), 'idempotency-key': key })
    expectProblem(reset, [502, 503, 504])
    // The bridge cannot know whether Recharge saw the write, so it says so rather than guessing.
    expect(reset.body.outcome).toBe('unknown')
    expect((await sim.ledger({ method: 'POST' })).length).toBe(before)

    await upstreamProxy.set({})
    upstreamProxy.dropConnections()
    const sameKey = await call('POST', skipPath, { ...shopper(), 'idempotency-key': key })
    expect(sameKey.status).toBe(reset.status)
    expect((await sim.ledger({ method: 'POST' })).length).toBe(before)

    const newKey = randomUUID()
    expect((await call('POST', skipPath, { ...shopper(), 'idempotency-key': newKey })).status).toBe(200)
    expect((await call('POST', skipPath, { ...shopper(), 'idempotency-key': newKey })).status).toBe(200)
    expect((await sim.ledger({ method: 'POST' })).length).toBe(before + 1)
  })

  it('does not re-send a write whose response was lost after Recharge processed it, and reads it back', async () => {
    const skipped = await call('POST', `/v1/subscriptions/${subscriptionId}/skip`, {
      ...shopper(),
      'idempotency-key': randomUUID(),
    })
    expect(skipped.status).toBe(200)
    const before = (await sim.ledger({ method: 'POST' })).length
    // Unskip restores the earliest skipped delivery (earlier tests may have left one before this test's).
    const restoredDate = (await skippedChargeDates()).sort()[0]
    // The simulator processes the write, then the response is cut: an uncertain outcome.
    await sim.setFaults([{ match: { method: 'POST', path: '/charges' }, truncate: true, count: 1 }])
    const key = randomUUID()
    const unskipPath = `/v1/subscriptions/${subscriptionId}/unskip`
    const lost = await call('POST', unskipPath, { ...shopper(), 'idempotency-key': key })
    // The subscription read back is on the skipped delivery's date again: the unskip is answered as done.
    expect(lost.status).toBe(200)
    expect(lost.body.next_charge_date).toBe(restoredDate)
    const unskips = async () =>
      (await sim.ledger({ method: 'POST' })).slice(before).filter((entry) => entry.path.includes('/unskip'))
    expect(await unskips()).toHaveLength(1)

    // The storefront retries with the same key: it gets the same answer, and Recharge is not asked again.
    const retried = await call('POST', unskipPath, { ...shopper(), 'idempotency-key': key })
    expect(retried.status).toBe(200)
    expect(retried.body).toEqual(lost.body)
    expect(await unskips()).toHaveLength(1)

    // Recharge did apply it, and the bridge's cached view must not hide that: skipping again works at once.
    const again = await call('POST', `/v1/subscriptions/${subscriptionId}/skip`, {
      ...shopper(),
      'idempotency-key': randomUUID(),
    })
    expect(again.status).toBe(200)
  })
})

describe('writes whose answer was lost, read back', () => {
  const writes = async (method: string, path: string) =>
    (await sim.ledger({ method })).filter((entry) => entry.path.startsWith(path))

  it('answers a change Recharge applied as done, from the record read back, without sending it again', async () => {
    const path = `/v1/subscriptions/${subscriptionId}`
    const before = await call('GET', path, shopper())
    const quantity = Number(before.body.quantity) + 1
    const sent = (await writes('PUT', `/subscriptions/${subscriptionId}`)).length
    // The simulator applies the write, then the answer is cut.
    await sim.setFaults([{ match: { method: 'PUT', path: '/subscriptions' }, truncate: true, count: 1 }])
    const changed = await call('PATCH', path, { ...shopper(), 'idempotency-key': randomUUID() }, { quantity })
    expect(changed.status).toBe(200)
    expect(changed.body.quantity).toBe(quantity)
    expect(await writes('PUT', `/subscriptions/${subscriptionId}`)).toHaveLength(sent + 1)
  })

  it('answers a cancel and a reactivation Recharge applied as done', async () => {
    const path = `/v1/subscriptions/${subscriptionId}`
    await sim.setFaults([{ match: { method: 'POST', path: '/subscriptions' }, truncate: true, count: 1 }])
    const cancelled = await call(
      'POST',
      `${path}/cancel`,
      { ...shopper(), 'idempotency-key': randomUUID() },
      { reason: 'Other' },
    )
    expect(cancelled.status).toBe(200)
    expect(cancelled.body.status).toBe('cancelled')

    await sim.setFaults([{ match: { method: 'POST', path: '/subscriptions' }, truncate: true, count: 1 }])
    const active = await call('POST', `${path}/activate`, { ...shopper(), 'idempotency-key': randomUUID() })
    expect(active.status).toBe(200)
    expect(active.body.status).toBe('active')
  })

  it('answers a skip Recharge applied as done: the subscription read back is past the skipped date', async () => {
    const path = `/v1/subscriptions/${subscriptionId}`
    const before = await call('GET', path, shopper())
    await sim.setFaults([{ match: { method: 'POST', path: '/charges' }, truncate: true, count: 1 }])
    const skipped = await call('POST', `${path}/skip`, { ...shopper(), 'idempotency-key': randomUUID() })
    expect(skipped.status).toBe(200)
    expect(String(skipped.body.next_charge_date) > String(before.body.next_charge_date)).toBe(true)
    expect(await skippedChargeDates()).toContain(before.body.next_charge_date)
    // Put the delivery back for the tests after this one.
    expect((await call('POST', `${path}/unskip`, { ...shopper(), 'idempotency-key': randomUUID() })).status).toBe(200)
  })

  it('still says "unknown" when the record does not show the change (Recharge may yet apply it)', async () => {
    const path = `/v1/subscriptions/${subscriptionId}`
    const before = await call('GET', path, shopper())
    // A 5xx to a write: not retried, and the bridge cannot know whether it was processed. Here it was not.
    await sim.setFaults([{ match: { method: 'PUT', path: '/subscriptions' }, status: 500, count: 1 }])
    const quantity = Number(before.body.quantity) + 1
    const failed = await call('PATCH', path, { ...shopper(), 'idempotency-key': randomUUID() }, { quantity })
    expectProblem(failed, [502, 503])
    expect(failed.body.outcome).toBe('unknown')
    expect((await call('GET', path, shopper())).body.quantity).toBe(before.body.quantity)
  })
})

describe('faults between the bridge and Redis', () => {
  it('keeps answering while Redis hangs, then recovers', async () => {
    expect((await call('GET', `/v1/catalog/products/${productId}`)).status).toBe(200)
    await redisProxy.set({ hang: true })
    redisProxy.dropConnections()
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => call('GET', `/v1/catalog/products/${productId}`)),
    )
    for (const answer of answers) expect(answer.status).toBe(200)
    expect((await call('GET', '/v1/subscriptions', shopper())).status).toBe(200)

    await redisProxy.set({})
    expect((await recovered(() => call('GET', '/readyz'))).status).toBe(200)
    expect((await call('GET', '/v1/subscriptions', shopper())).status).toBe(200)
  })

  it('keeps answering when a live Redis connection stops answering (frozen server), then recovers', async () => {
    expect((await call('GET', `/v1/catalog/products/${productId}`)).status).toBe(200)
    await redisProxy.set({ blackhole: true })
    const answers = await Promise.all([
      call('GET', `/v1/catalog/products/${productId}`),
      call('GET', '/v1/subscriptions', shopper()),
      call('GET', '/v1/me', shopper()),
    ])
    for (const answer of answers) expect([answer.status, answer.body.code]).toEqual([200, undefined])
    // Keyed writes are refused while the idempotency store cannot answer (test/security/idempotency-redis-degraded).
    expect((await call('GET', '/readyz')).status).toBe(503)
    await redisProxy.set({})
    expect((await recovered(() => call('GET', '/readyz'))).status).toBe(200)
    expect((await call('GET', '/v1/subscriptions', shopper())).status).toBe(200)
  })

  it('keeps answering while Redis refuses connections, and reports not ready', async () => {
    await redisProxy.set({ refuse: true })
    const answers = await Promise.all([
      call('GET', `/v1/catalog/products/${productId}`),
      call('GET', '/v1/subscriptions', shopper()),
      call('GET', '/v1/me', shopper()),
    ])
    for (const answer of answers) expect(answer.status).toBe(200)
    expect((await call('GET', '/readyz')).status).toBe(503)
    await redisProxy.set({})
    expect((await recovered(() => call('GET', '/readyz'))).status).toBe(200)
  })
})
