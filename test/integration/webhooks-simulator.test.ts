import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { request } from 'undici'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { RedisClient } from '../../src/infra/redis.ts'
import { REGISTRABLE_TOPICS } from '../../src/simulator/routes/webhooks.ts'
import { NEEDED_TOPICS } from '../../src/webhooks/topics.ts'
import { testConfig } from '../support/config.ts'
import { connectRedis, deleteKeys, redisUrl, uniquePrefix } from '../support/redis.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'
import { metricTotal, until } from '../support/until.ts'

/**
 * The simulator delivers signed webhooks (both schemes at once) to a relay in front of the bridge. The relay passes
 * them on unchanged, or with only the legacy header, or with one byte changed, and can replay the last delivery;
 * it answers the simulator with the bridge's status.
 */
const clientSecret = 'sim_whsec_integration_0001'
const apiToken = 'sk_test_simulator'
const adminKey = 'test-admin-key-0123456789abcdef'
const prefix = uniquePrefix('webhooks-sim')
/** Cache names of this file's shopper records: other files use the same seeded customer ids in the shared Redis. */
const namespace = `${prefix.replaceAll(':', '-')}-`

type RelayMode = 'pass' | 'legacy-only' | 'tamper' | 'down'
let relayMode: RelayMode = 'pass'
const relayed: { url: string; status: number; headers: IncomingHttpHeaders; body: Buffer }[] = []

let relay: Server
let simulator: TestSimulator
let simUrl: string
let bridge: FastifyInstance
let bridgeUrl: string
let redis: RedisClient

function counter(name: string): Promise<number> {
  return metricTotal(bridge.metrics.registry, name)
}

async function sim<T = Record<string, unknown>>(method: 'POST', path: string, body?: unknown) {
  const response = await request(`${simUrl}${path}`, {
    method,
    headers: {
      'x-recharge-access-token': apiToken,
      'x-recharge-version': '2021-11',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await response.body.text()
  return { status: response.statusCode, json: (text ? JSON.parse(text) : null) as T }
}

function deliverPending() {
  return simulator.deliverWebhooks()
}

async function forward(url: string, headers: IncomingHttpHeaders, body: Buffer) {
  const pass: Record<string, string> = {}
  for (const name of ['content-type', 'x-recharge-topic', 'x-recharge-hmac-sha256', 'x-recharge-webhook-signature']) {
    const value = headers[name]
    if (typeof value === 'string') pass[name] = value
  }
  if (relayMode === 'legacy-only') delete pass['x-recharge-webhook-signature']
  let sent = body
  if (relayMode === 'tamper') {
    sent = Buffer.from(body)
    const index = sent.indexOf('"id":') + 5
    sent[index] = (sent[index] as number) ^ 0x01
  }
  const response = await request(`${bridgeUrl}${url}`, { method: 'POST', headers: pass, body: sent })
  await response.body.dump()
  return response.statusCode
}

beforeAll(async () => {
  redis = await connectRedis()
  relay = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = []
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
    incoming.on('end', async () => {
      const body = Buffer.concat(chunks)
      const status = relayMode === 'down' ? 503 : await forward(incoming.url ?? '/', incoming.headers, body)
      relayed.push({ url: incoming.url ?? '/', status, headers: incoming.headers, body })
      outgoing.writeHead(status).end()
    })
  })
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve))
  const relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`

  simulator = await startTestSimulator({
    clientSecret,
    apiTokens: [apiToken],
    webhookAutoDeliver: false,
    webhookMaxFailures: 2,
    webhookRetryBaseMs: 0,
    bucketSize: 400,
    leakRate: 200,
  })
  simUrl = simulator.url

  bridge = await buildApp(
    testConfig({
      RECHARGE_API_TOKEN: apiToken,
      RECHARGE_API_URL: simUrl,
      RECHARGE_WEBHOOK_SECRET: clientSecret,
      REDIS_URL: redisUrl(),
      PUBLIC_URL: relayUrl,
      ADMIN_API_KEY: adminKey,
      RECHARGE_BUCKET_SIZE: '400',
      RECHARGE_LEAK_RATE: '200',
    }),
    // The watchdog is driven by hand below (check()), not by its timer.
    {
      shopper: { namespace },
      webhooks: {
        keyPrefix: prefix,
        retryAfterMs: 1_000,
        blockMs: 100,
        watchdog: true,
        watchdogIntervalMs: 3_600_000,
        watchdogFirstDelayMs: 3_600_000,
      },
    },
  )
  bridgeUrl = await bridge.listen({ port: 0, host: '127.0.0.1' })
}, 60_000)

afterAll(async () => {
  await bridge?.close()
  await simulator?.close()
  await new Promise<void>((resolve) => relay.close(() => resolve()))
  await deleteKeys(redis, `${prefix}*`)
  await deleteKeys(redis, `rb:*${namespace}*`)
  await redis.close()
})

const admin = { authorization: `Bearer ${adminKey}` }
/** Needed topics the simulator refuses (as Recharge refuses topics a token has no scope for); ideally none. */
const unsupported = NEEDED_TOPICS.filter((topic) => !REGISTRABLE_TOPICS.includes(topic))
const supported = NEEDED_TOPICS.filter((topic) => !unsupported.includes(topic))

async function settled(): Promise<void> {
  await until(async () => (await bridge.webhooks.intakeQueue.pending()) === 0)
}

/** Registers every needed topic at PUBLIC_URL (the tests after the first registration need them in place). */
async function registered(): Promise<void> {
  const response = await bridge.inject({ method: 'POST', url: '/v1/admin/webhooks/register', headers: admin })
  expect(response.statusCode).toBe(200)
}

describe('webhooks against the simulator', () => {
  // Each test starts from the seeded simulator with no webhook registered, an idle intake and a passing relay.
  beforeEach(async () => {
    relayMode = 'pass'
    await settled()
    await simulator.reset()
    relayed.length = 0
  })

  it('registers every needed topic at PUBLIC_URL, idempotently', async () => {
    const first = await bridge.inject({ method: 'POST', url: '/v1/admin/webhooks/register', headers: admin })
    expect(first.statusCode).toBe(200)
    // A refused topic is reported and does not stop the others.
    expect(
      first
        .json()
        .failed.map((failure: { topic: string }) => failure.topic)
        .sort(),
    ).toEqual([...unsupported].sort())
    expect([...first.json().created].sort()).toEqual([...supported].sort())
    const second = await bridge.inject({ method: 'POST', url: '/v1/admin/webhooks/register', headers: admin })
    expect(second.json().created).toEqual([])
    expect([...second.json().registered].sort()).toEqual([...supported].sort())
    const listed = await bridge.inject({ method: 'GET', url: '/v1/admin/webhooks', headers: admin })
    expect(listed.json().missing.sort()).toEqual([...unsupported].sort())
    expect(listed.json().webhooks.every((webhook: { status: string }) => webhook.status === 'registered')).toBe(true)
  })

  it('a subscription change in the simulator reaches the next shopper read', async () => {
    await registered()
    const state = await simulator.state()
    // The last seeded active one: other test files (same seed, same ids, shared Redis tags) start from the first.
    const subscription = state.subscriptions.findLast((row) => row.status === 'active')
    const customer = state.customers.find((row) => row.id === subscription?.customer_id)
    expect(subscription && customer).toBeTruthy()
    const minted = await bridge.inject({
      method: 'POST',
      url: '/v1/admin/customer-tokens',
      headers: admin,
      payload: { email: customer?.email },
    })
    expect(minted.statusCode).toBe(201)
    const shopper = { authorization: `Bearer ${minted.json().token}` }
    const read = async () => {
      const response = await bridge.inject({ method: 'GET', url: '/v1/subscriptions', headers: shopper })
      expect(response.statusCode).toBe(200)
      const rows = (response.json().subscriptions ?? response.json()) as { id: string | number; status: string }[]
      return rows.find((row) => String(row.id) === String(subscription?.id))?.status
    }
    expect(await read()).toBe('active')
    expect(await read()).toBe('active') // now cached

    // Changed behind the bridge's back (the merchant admin, Recharge itself): only a webhook can tell the bridge.
    const cancelled = await sim('POST', `/subscriptions/${subscription?.id}/cancel`, {
      cancellation_reason: 'webhook integration test',
    })
    expect(cancelled.status).toBe(200)
    expect(await read()).toBe('active') // the cache does not know yet

    const processed = await counter('recharge_bridge_webhook_events_processed_total')
    const deliveries = await deliverPending()
    expect(deliveries.length).toBeGreaterThan(0)
    expect(deliveries.every((delivery) => delivery.status === 200)).toBe(true)
    expect(deliveries.map((delivery) => delivery.topic)).toContain('subscription/cancelled')
    await until(
      async () => (await counter('recharge_bridge_webhook_events_processed_total')) >= processed + deliveries.length,
    )
    expect(await read()).toBe('cancelled')
  })

  it('accepts the legacy scheme alone and rejects a one-byte change', async () => {
    await registered()
    const state = await simulator.state()
    const active = state.subscriptions.filter((row) => row.status === 'active')
    relayMode = 'legacy-only'
    await sim('POST', `/subscriptions/${active[0]?.id}/cancel`, { cancellation_reason: 'legacy scheme' })
    const legacy = await deliverPending()
    expect(legacy.length).toBeGreaterThan(0)
    expect(legacy.every((delivery) => delivery.status === 200)).toBe(true)
    expect(relayed.at(-1)?.headers['x-recharge-webhook-signature']).toBeDefined() // the simulator sent both

    relayMode = 'tamper'
    const rejected = await counter('recharge_bridge_webhook_deliveries_rejected_total')
    await sim('POST', `/subscriptions/${active[1]?.id}/cancel`, { cancellation_reason: 'tampered' })
    const tampered = await deliverPending()
    expect(tampered.length).toBeGreaterThan(0)
    expect(tampered.every((delivery) => delivery.status === 401)).toBe(true)
    expect(await counter('recharge_bridge_webhook_deliveries_rejected_total')).toBe(rejected + tampered.length)

    // Recharge retries; once the bytes arrive intact the same deliveries are accepted.
    relayMode = 'pass'
    const retried = await deliverPending()
    expect(retried.length).toBe(tampered.length)
    expect(retried.every((delivery) => delivery.status === 200)).toBe(true)
  })

  it('processes a replayed delivery once', async () => {
    await registered()
    const active = (await simulator.state()).subscriptions.find((row) => row.status === 'active')
    await sim('POST', `/subscriptions/${active?.id}/cancel`, { cancellation_reason: 'replayed' })
    expect((await deliverPending()).length).toBeGreaterThan(0)
    const last = relayed.at(-1)
    expect(last?.status).toBe(200)
    await settled()
    const processed = await counter('recharge_bridge_webhook_events_processed_total')
    const duplicates = await counter('recharge_bridge_webhook_events_deduplicated_total')
    for (let i = 0; i < 3; i++) {
      expect(await forward(last?.url ?? '', last?.headers ?? {}, last?.body ?? Buffer.alloc(0))).toBe(200)
    }
    await until(async () => (await counter('recharge_bridge_webhook_events_deduplicated_total')) === duplicates + 3)
    await sleep(200)
    expect(await counter('recharge_bridge_webhook_events_processed_total')).toBe(processed)
  })

  it('re-registers a webhook Recharge deleted after failed deliveries, and /readyz reports it', async () => {
    await registered()
    const watchdog = bridge.webhooks.watchdog
    expect(watchdog).not.toBeNull()
    expect((await watchdog?.check())?.missing.sort()).toEqual([...unsupported].sort())
    const ready = (await bridge.inject({ method: 'GET', url: '/readyz' })).json().checks.webhooks
    expect(ready.ok).toBe(true)
    expect(ready.detail).toMatch(unsupported.length === 0 ? /^registered/ : /^degraded: \d+ topic/)

    relayMode = 'down'
    const state = await simulator.state()
    const active = state.subscriptions.find((row) => row.status === 'active')
    await sim('POST', `/subscriptions/${active?.id}/cancel`, { cancellation_reason: 'outage' })
    await deliverPending()
    const second = await deliverPending() // webhookMaxFailures: 2 → deleted
    expect(second.some((delivery) => delivery.webhook_deleted)).toBe(true)
    const deletedTopics = second.filter((delivery) => delivery.webhook_deleted).map((delivery) => delivery.topic)
    const listed = await bridge.inject({ method: 'GET', url: '/v1/admin/webhooks', headers: admin })
    expect(listed.json().missing).toEqual(expect.arrayContaining(deletedTopics))
    expect(listed.json().missing).toHaveLength(unsupported.length + new Set(deletedTopics).size)

    relayMode = 'pass'
    const repaired = await watchdog?.check()
    expect(repaired?.repaired.sort()).toEqual([...new Set(deletedTopics)].sort())
    expect(repaired?.missing.sort()).toEqual([...unsupported].sort())
    const after = await bridge.inject({ method: 'GET', url: '/v1/admin/webhooks', headers: admin })
    expect(after.json().missing.sort()).toEqual([...unsupported].sort())
    const readyAfter = (await bridge.inject({ method: 'GET', url: '/readyz' })).json().checks.webhooks
    expect(readyAfter.detail).toContain(unsupported.length === 0 ? 're-registered' : 'degraded')
  })
})
