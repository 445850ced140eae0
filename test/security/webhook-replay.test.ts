import { createHash } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { request } from 'undici'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { RedisClient } from '../../src/infra/redis.ts'
import { testConfig } from '../support/config.ts'
import { connectRedis, deleteKeys, redisUrl, uniquePrefix } from '../support/redis.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * Someone who captured one signed Recharge delivery re-posts it: under another `?topic=` (no signature covers the
 * topic), with only its legacy header (no signed timestamp), and days later. The simulator signs and sends the
 * delivery; the bridge runs on a real Redis and forwards what it processes to a merchant endpoint, which must see
 * the event once.
 */
const clientSecret = 'sim_whsec_security_replay_01'
const prefix = uniquePrefix('security-webhook-replay')
const DAY_MS = 24 * 60 * 60 * 1000

interface Captured {
  url: string
  headers: IncomingHttpHeaders
  body: Buffer
}

let simulator: TestSimulator
let bridge: FastifyInstance
let bridgeUrl: string
let redis: RedisClient
let captureServer: Server
let merchantServer: Server
const captured: Captured[] = []
const forwarded: { topic: string; id: string }[] = []
let clockOffsetMs = 0

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  )
}

function collect(handler: (url: string, headers: IncomingHttpHeaders, body: Buffer) => void): Server {
  return createServer((incoming, outgoing) => {
    const chunks: Buffer[] = []
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
    incoming.on('end', () => {
      handler(incoming.url ?? '/', incoming.headers, Buffer.concat(chunks))
      outgoing.writeHead(200).end()
    })
  })
}

async function post(topic: string, headers: Record<string, string>, body: Buffer) {
  const response = await request(`${bridgeUrl}/v1/webhooks/recharge?topic=${encodeURIComponent(topic)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  })
  await response.body.dump()
  return response.statusCode
}

/** Both queues empty: every acknowledged delivery was processed (or skipped) and every forward sent. */
async function settled(): Promise<void> {
  await expect
    .poll(
      async () =>
        (await bridge.webhooks.intakeQueue.pending()) + ((await bridge.webhooks.forwardQueue?.pending()) ?? 0),
      { timeout: 15_000, interval: 50 },
    )
    .toBe(0)
}

function signedHeaders(delivery: Captured, keep: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const name of keep) {
    const value = delivery.headers[name]
    if (typeof value === 'string') headers[name] = value
  }
  return headers
}

beforeAll(async () => {
  redis = await connectRedis()
  captureServer = collect((url, headers, body) => captured.push({ url, headers, body }))
  merchantServer = collect((_url, _headers, body) => {
    const event = JSON.parse(body.toString()) as { topic: string; id: string }
    forwarded.push({ topic: event.topic, id: event.id })
  })
  const captureUrl = await listen(captureServer)
  const merchantUrl = await listen(merchantServer)

  simulator = await startTestSimulator({ clientSecret, webhookAutoDeliver: false })
  bridge = await buildApp(
    testConfig({
      RECHARGE_API_TOKEN: simulator.apiToken,
      RECHARGE_API_URL: simulator.url,
      RECHARGE_WEBHOOK_SECRET: clientSecret,
      REDIS_URL: redisUrl(),
      WEBHOOK_FORWARD_URL: `${merchantUrl}/events`,
      WEBHOOK_FORWARD_SECRET: 'merchant-forward-secret-0123456789',
    }),
    {
      webhooks: {
        keyPrefix: prefix,
        retryAfterMs: 1_000,
        blockMs: 50,
        watchdog: false,
        now: () => Date.now() + clockOffsetMs,
      },
    },
  )
  bridgeUrl = await bridge.listen({ port: 0, host: '127.0.0.1' })

  const registered = await simulator.api('POST', '/webhooks', {
    address: `${captureUrl}/v1/webhooks/recharge?topic=subscription/cancelled`,
    topic: 'subscription/cancelled',
  })
  expect(registered.status).toBe(201)
}, 60_000)

// Each test replays its own delivery on the bridge's own clock: one that moved the clock 8 days on, or processed and
// deleted the dedupe key of a delivery another test replays, would decide that test's answers.
beforeEach(() => {
  clockOffsetMs = 0
})

/** A real delivery of its own: the simulator signs it (timestamped and legacy headers) when a subscription is cancelled. */
async function freshDelivery(): Promise<Captured> {
  const before = captured.length
  const subscriptions = await simulator.api('GET', '/subscriptions?status=active&limit=1')
  const subscriptionId = subscriptions.body.subscriptions[0].id as number
  const cancelled = await simulator.api('POST', `/subscriptions/${subscriptionId}/cancel`, {
    cancellation_reason: 'replay test',
  })
  expect(cancelled.status).toBe(200)
  await simulator.deliverWebhooks()
  const delivery = captured.at(-1)
  if (captured.length === before || !delivery) throw new Error('the simulator delivered nothing')
  return delivery
}

afterAll(async () => {
  await bridge?.close()
  await simulator?.close()
  await new Promise((resolve) => captureServer?.close(resolve))
  await new Promise((resolve) => merchantServer?.close(resolve))
  if (redis) {
    await deleteKeys(redis, `${prefix}:*`)
    await redis.close()
  }
})

describe('a captured signed webhook delivery, replayed', () => {
  it('is processed once when re-posted under another ?topic= and X-Recharge-Topic', async () => {
    const delivery = await freshDelivery()
    const both = signedHeaders(delivery, ['x-recharge-webhook-signature', 'x-recharge-hmac-sha256'])
    const mark = forwarded.length

    expect(await post('subscription/cancelled', both, delivery.body)).toBe(200)
    await settled()
    expect(forwarded.slice(mark).map((event) => event.topic)).toEqual(['subscription/cancelled'])

    // Same signed bytes, other topics: acknowledged (the signature is valid) but never processed again.
    expect(await post('subscription/activated', both, delivery.body)).toBe(200)
    expect(
      await post('subscription/deleted', { ...both, 'x-recharge-topic': 'subscription/deleted' }, delivery.body),
    ).toBe(200)
    await settled()
    expect(forwarded.slice(mark).map((event) => event.topic)).toEqual(['subscription/cancelled'])
  })

  it('is processed once when replayed with only its legacy header, and refused once the window has passed', async () => {
    const delivery = await freshDelivery()
    const mark = forwarded.length
    const legacyOnly = signedHeaders(delivery, ['x-recharge-hmac-sha256'])
    expect(Object.keys(legacyOnly)).toEqual(['x-recharge-hmac-sha256'])

    for (let replay = 0; replay < 3; replay++) {
      expect(await post('subscription/cancelled', legacyOnly, delivery.body)).toBe(200)
    }
    await settled()
    expect(forwarded.slice(mark)).toHaveLength(1)

    // The body stays a duplicate for at least the documented 7 days.
    const dedupeKey = `${prefix}:seen:${createHash('sha256').update(delivery.body).digest('hex')}`
    expect(await redis.pTTL(dedupeKey)).toBeGreaterThan(7 * DAY_MS - 60_000)

    // Eight days later the dedupe key is gone; the legacy replay must not verify any more (its signed updated_at is
    // too old), nor the timestamped one (its t is outside 48 h).
    clockOffsetMs = 8 * DAY_MS
    await redis.del(dedupeKey)
    expect(await post('subscription/cancelled', legacyOnly, delivery.body)).toBe(401)
    const both = signedHeaders(delivery, ['x-recharge-webhook-signature', 'x-recharge-hmac-sha256'])
    expect(await post('subscription/updated', both, delivery.body)).toBe(401)
    await settled()
    expect(forwarded.slice(mark)).toHaveLength(1)
  })
})
