import { createHash, createHmac } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { RedisClient } from '../../src/infra/redis.ts'
import { testConfig } from '../support/config.ts'
import { connectRedis, deleteKeys, redisUrl, uniquePrefix } from '../support/redis.ts'
import { metricTotal, until } from '../support/until.ts'

const secret = 'whsec_test_client_secret_1234'
const forwardSecret = 'forward-secret-0123456789'
const prefix = uniquePrefix('webhooks-intake')
/** No Recharge call happens in this file; the client only needs a token and a URL to be built. */
const recharge = { RECHARGE_API_TOKEN: 'sk_test_unused', RECHARGE_API_URL: 'http://127.0.0.1:9' }

/** Independent signers (what Recharge sends), written from the documented formulas. */
function legacyHeaders(body: string, key = secret) {
  return {
    'x-recharge-hmac-sha256': createHash('sha256')
      .update(key + body)
      .digest('hex'),
  }
}
function v1Headers(body: string, key = secret, t = Math.floor(Date.now() / 1000)) {
  const v1 = createHmac('sha256', key).update(`${t}.${body}`).digest('hex')
  return { 'x-recharge-webhook-signature': `t=${t},v1=${v1}`, 'x-recharge-webhook-timestamp': String(t) }
}

function counter(app: FastifyInstance, name: string): Promise<number> {
  return metricTotal(app.metrics.registry, name)
}

const customerId = String(900_000_000 + Math.floor(Math.random() * 1_000_000))
let subscriptions = 0
/** Each test's own subscription: the ordering guard and the dedup never see another test's versions. */
const freshSubscriptionId = () => Number(`77${customerId}`) * 100 + ++subscriptions
const subscriptionBody = (updatedAt: string, id: number) =>
  `{"subscription":{"id":${id},"customer_id":${customerId},"address_id":5,"status":"active","updated_at":"${updatedAt}"}}`
/** The events forwarded for one subscription, in arrival order. */
const forwardedFor = (id: number) =>
  forwarded.filter((entry) => (JSON.parse(entry.body) as { data?: { id?: number } }).data?.id === id)

let redis: RedisClient
let app: FastifyInstance
let forwardServer: Server
const forwarded: { headers: IncomingMessage['headers']; body: string }[] = []
let echoBody: unknown

beforeAll(async () => {
  redis = await connectRedis()
  forwardServer = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => {
      body += chunk
    })
    request.on('end', () => {
      forwarded.push({ headers: request.headers, body })
      response.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => forwardServer.listen(0, '127.0.0.1', resolve))
  const port = (forwardServer.address() as AddressInfo).port
  app = await buildApp(
    testConfig({
      ...recharge,
      REDIS_URL: redisUrl(),
      RECHARGE_WEBHOOK_SECRET: secret,
      WEBHOOK_FORWARD_URL: `http://127.0.0.1:${port}/hooks`,
      WEBHOOK_FORWARD_SECRET: forwardSecret,
    }),
    { webhooks: { keyPrefix: prefix, retryAfterMs: 500, blockMs: 100 } },
  )
  // A plain JSON route next to the raw-body intake: its parsing must be untouched.
  app.post('/echo-json', async (request) => {
    echoBody = request.body
    return { ok: true }
  })
  await app.ready()
})

afterAll(async () => {
  await app?.close()
  await new Promise<void>((resolve) => forwardServer.close(() => resolve()))
  await deleteKeys(redis, `${prefix}*`)
  await redis.close()
})

afterEach(() => {
  forwarded.length = 0
})

function deliver(body: string, headers: Record<string, string>, topic = 'subscription/updated') {
  return app.inject({
    method: 'POST',
    url: `/v1/webhooks/recharge?topic=${topic}`,
    headers: { 'content-type': 'application/json', ...headers },
    payload: body,
  })
}

describe('POST /v1/webhooks/recharge', () => {
  it('accepts the legacy X-Recharge-Hmac-Sha256 scheme and processes the delivery', async () => {
    const id = freshSubscriptionId()
    const before = await counter(app, 'recharge_bridge_webhook_events_processed_total')
    const body = subscriptionBody('2030-01-01T00:00:01', id)
    const response = await deliver(body, legacyHeaders(body))
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ received: true, topic: 'subscription/updated', resource: 'subscription' })
    await until(async () => (await counter(app, 'recharge_bridge_webhook_events_processed_total')) === before + 1)
    await until(() => forwardedFor(id).length === 1)
  })

  it('accepts the timestamped X-Recharge-Webhook-Signature scheme', async () => {
    const id = freshSubscriptionId()
    const before = await counter(app, 'recharge_bridge_webhook_events_processed_total')
    const body = subscriptionBody('2030-01-01T00:00:02', id)
    const response = await deliver(body, v1Headers(body))
    expect(response.statusCode).toBe(200)
    await until(async () => (await counter(app, 'recharge_bridge_webhook_events_processed_total')) === before + 1)
    await until(() => forwardedFor(id).length === 1)
  })

  it('rejects a one-byte change with 401 problem+json that does not say what failed', async () => {
    const id = freshSubscriptionId()
    const body = subscriptionBody('2030-01-01T00:00:03', id)
    const tampered = body.replace('"active"', '"activf"')
    for (const headers of [legacyHeaders(body), v1Headers(body)]) {
      const response = await deliver(tampered, headers)
      expect(response.statusCode).toBe(401)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(response.json()).toMatchObject({
        code: 'UNAUTHENTICATED',
        detail: 'The webhook signature is missing or invalid',
      })
    }
    expect((await deliver(body, {})).statusCode).toBe(401)
    expect((await deliver(body, legacyHeaders(body, 'another-secret'))).statusCode).toBe(401)
    const old = Math.floor(Date.now() / 1000) - 49 * 3600
    expect((await deliver(body, v1Headers(body, secret, old))).statusCode).toBe(401)
    expect(await counter(app, 'recharge_bridge_webhook_deliveries_rejected_total')).toBeGreaterThanOrEqual(5)
  })

  it('processes a replayed delivery once', async () => {
    const id = freshSubscriptionId()
    const processed = await counter(app, 'recharge_bridge_webhook_events_processed_total')
    const duplicates = await counter(app, 'recharge_bridge_webhook_events_deduplicated_total')
    const body = subscriptionBody('2030-01-01T00:00:04', id)
    for (let i = 0; i < 3; i++) expect((await deliver(body, legacyHeaders(body))).statusCode).toBe(200)
    // The same body re-signed with the v1 scheme is the same delivery too.
    expect((await deliver(body, v1Headers(body))).statusCode).toBe(200)
    await until(
      async () => (await counter(app, 'recharge_bridge_webhook_events_deduplicated_total')) === duplicates + 3,
    )
    expect(await counter(app, 'recharge_bridge_webhook_events_processed_total')).toBe(processed + 1)
    await until(() => forwardedFor(id).length === 1)
    await sleep(300)
    expect(forwardedFor(id)).toHaveLength(1)
  })

  it('forwards a normalised event signed with X-Bridge-Signature', async () => {
    const id = freshSubscriptionId()
    const body = subscriptionBody('2030-01-01T00:00:05', id)
    await deliver(body, v1Headers(body), 'subscription/cancelled')
    await until(() => forwardedFor(id).length === 1)
    const [received] = forwardedFor(id)
    expect(received?.headers['x-bridge-topic']).toBe('subscription/cancelled')
    expect(received?.headers['x-bridge-event-id']).toBe(JSON.parse(received?.body ?? '{}').id)
    const signature = String(received?.headers['x-bridge-signature'])
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signature) ?? []
    expect(createHmac('sha256', forwardSecret).update(`${t}.${received?.body}`).digest('hex')).toBe(v1)
    expect(JSON.parse(received?.body ?? '')).toMatchObject({
      id: expect.stringMatching(/^evt_[0-9a-f]{32}$/),
      topic: 'subscription/cancelled',
      resource: 'subscription',
      occurred_at: '2030-01-01T00:00:05.000Z',
      superseded: false,
      data: { customer_id: Number(customerId), status: 'active' },
    })
  })

  it('acknowledges an older version and forwards it marked superseded (ordering guard)', async () => {
    const id = freshSubscriptionId()
    const superseded = await counter(app, 'recharge_bridge_webhook_events_superseded_total')
    const newer = subscriptionBody('2031-06-01T00:00:00', id)
    const older = subscriptionBody('2031-05-01T00:00:00', id)
    expect((await deliver(newer, legacyHeaders(newer))).statusCode).toBe(200)
    await until(() => forwardedFor(id).length === 1)
    expect((await deliver(older, legacyHeaders(older))).statusCode).toBe(200)
    await until(async () => (await counter(app, 'recharge_bridge_webhook_events_superseded_total')) === superseded + 1)
    await until(() => forwardedFor(id).length === 2)
    expect(JSON.parse(forwardedFor(id)[1]?.body ?? '')).toMatchObject({ superseded: true })
  })

  it('invalidates the cache tags of the changed record', async () => {
    const id = freshSubscriptionId()
    let fetches = 0
    const list = app.cache.define(`webhooks-intake-test-${prefix}`, {
      key: (args: { customerId: string }) => args.customerId,
      fetch: async () => ({ n: ++fetches }),
      ttlMs: 60_000,
      tags: (args) => [`customer:${args.customerId}`],
    })
    expect((await list({ customerId })).value).toEqual({ n: 1 })
    expect((await list({ customerId })).state).toBe('HIT')
    const processed = await counter(app, 'recharge_bridge_webhook_events_processed_total')
    const body = subscriptionBody('2032-01-01T00:00:00', id)
    await deliver(body, v1Headers(body))
    await until(async () => (await counter(app, 'recharge_bridge_webhook_events_processed_total')) === processed + 1)
    await until(async () => (await list({ customerId })).value.n === 2)
  })

  it('leaves JSON parsing of other routes alone', async () => {
    const response = await app.inject({ method: 'POST', url: '/echo-json', payload: { a: 1 } })
    expect(response.statusCode).toBe(200)
    expect(echoBody).toEqual({ a: 1 })
  })

  it('answers 400 to a signed body that is not JSON and 413 to an oversized one', async () => {
    const body = 'not json'
    expect((await deliver(body, legacyHeaders(body))).statusCode).toBe(400)
    // Larger than the 64 KiB of the JSON routes (included_objects make big payloads), within the route's 1 MiB.
    const large = `{"subscription":{"id":2,"updated_at":"2030-01-01T00:00:00","note":"${'x'.repeat(200 * 1024)}"}}`
    expect((await deliver(large, legacyHeaders(large))).statusCode).toBe(200)
    // Nothing of this test is still in flight when the next one counts events.
    await until(() => forwardedFor(2).length === 1)
    const huge = `{"subscription":{"id":1,"note":"${'x'.repeat(1024 * 1024)}"}}`
    expect((await deliver(huge, legacyHeaders(huge))).statusCode).toBe(413)
  })
})

describe('webhook admin routes', () => {
  it('require the admin key', async () => {
    const response = await app.inject({ method: 'POST', url: '/v1/admin/webhooks/register' })
    expect(response.statusCode).toBe(401)
    expect(response.headers['content-type']).toContain('application/problem+json')
  })
})

describe('without RECHARGE_WEBHOOK_SECRET', () => {
  it('refuses deliveries with 503 and says why on /readyz', async () => {
    const id = freshSubscriptionId()
    const bare = await buildApp(testConfig({ ...recharge, REDIS_URL: redisUrl() }), {
      webhooks: { keyPrefix: `${prefix}:bare` },
    })
    try {
      const body = subscriptionBody('2030-01-01T00:00:00', id)
      const response = await bare.inject({
        method: 'POST',
        url: '/v1/webhooks/recharge',
        headers: { 'content-type': 'application/json', ...legacyHeaders(body) },
        payload: body,
      })
      expect(response.statusCode).toBe(503)
      expect(response.json().detail).toContain('RECHARGE_WEBHOOK_SECRET')
      const ready = await bare.inject({ method: 'GET', url: '/readyz' })
      expect(ready.json().checks.webhooks.detail).toContain('RECHARGE_WEBHOOK_SECRET is unset')
    } finally {
      await bare.close()
    }
  })
})
