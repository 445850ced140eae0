import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { RedisClient } from '../../src/plugins/redis.ts'
import { testConfig } from '../support/config.ts'
import { connectRedis, deleteKeys, redisUrl, uniquePrefix } from '../support/redis.ts'

const secret = 'whsec_resilience_secret_42'
const prefix = uniquePrefix('webhooks-resilience')
const recharge = { RECHARGE_API_TOKEN: 'sk_test_unused', RECHARGE_API_URL: 'http://127.0.0.1:9' }

function counter(app: FastifyInstance, name: string): number {
  const metric = app.metrics.registry.getSingleMetric(name) as unknown as
    | { hashMap: Record<string, { value: number }> }
    | undefined
  return Object.values(metric?.hashMap ?? {}).reduce((sum, entry) => sum + entry.value, 0)
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time')
    await sleep(20)
  }
}

function deliver(app: FastifyInstance, body: string) {
  return app.inject({
    method: 'POST',
    url: '/v1/webhooks/recharge?topic=charge/paid',
    headers: {
      'content-type': 'application/json',
      'x-recharge-hmac-sha256': createHash('sha256')
        .update(secret + body)
        .digest('hex'),
    },
    payload: body,
  })
}

let redis: RedisClient
let target: Server
let targetUrl: string
let targetHits = 0

beforeAll(async () => {
  redis = await connectRedis()
  target = createServer((_request, response) => {
    targetHits++
    response.writeHead(500).end()
  })
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve))
  targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/events`
})

afterAll(async () => {
  await new Promise<void>((resolve) => target.close(() => resolve()))
  await deleteKeys(redis, `${prefix}*`)
  await redis.close()
})

describe('without Redis (one replica, in-process queue)', () => {
  it('acknowledges, processes once and dedupes in process', async () => {
    const app = await buildApp(testConfig({ ...recharge, RECHARGE_WEBHOOK_SECRET: secret }), { redis: null })
    await app.ready()
    try {
      expect(app.webhooks.intakeQueue.kind).toBe('memory')
      const body = '{"charge":{"id":1,"customer_id":2,"updated_at":"2030-01-01T00:00:00"}}'
      for (let i = 0; i < 2; i++) expect((await deliver(app, body)).statusCode).toBe(200)
      await until(() => counter(app, 'recharge_bridge_webhook_events_deduplicated_total') === 1)
      expect(counter(app, 'recharge_bridge_webhook_events_processed_total')).toBe(1)
    } finally {
      await app.close()
    }
  })
})

describe('when Redis cannot store a delivery', () => {
  it('answers 503 with Retry-After instead of acknowledging it', async () => {
    const client = await connectRedis()
    const app = await buildApp(testConfig({ ...recharge, REDIS_URL: redisUrl(), RECHARGE_WEBHOOK_SECRET: secret }), {
      redis: client,
      backgroundWorkers: false,
      webhooks: { keyPrefix: `${prefix}:down` },
    })
    await app.ready()
    try {
      client.destroy() // Redis gone: commands fail at once (no offline queue)
      const response = await deliver(app, '{"charge":{"id":3,"updated_at":"2030-01-01T00:00:00"}}')
      expect(response.statusCode).toBe(503)
      expect(response.headers['retry-after']).toBe('5')
      expect(response.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' })
    } finally {
      await app.close()
    }
  })
})

describe('Redis unreachable at start-up', () => {
  it('still starts, refuses deliveries with 503 and closes', async () => {
    const app = await buildApp(
      testConfig({ ...recharge, REDIS_URL: 'redis://127.0.0.1:1', RECHARGE_WEBHOOK_SECRET: secret }),
      { webhooks: { keyPrefix: `${prefix}:unreachable`, blockMs: 100 } },
    )
    await app.ready()
    const response = await deliver(app, '{"charge":{"id":6,"updated_at":"2030-01-01T00:00:00"}}')
    expect(response.statusCode).toBe(503)
    await app.close() // a start or close that waited for Redis would hang here until the test times out
  })
})

describe('shutdown', () => {
  it('finishes the delivery in hand before close() resolves', async () => {
    let started = false
    const app = await buildApp(testConfig({ ...recharge, REDIS_URL: redisUrl(), RECHARGE_WEBHOOK_SECRET: secret }), {
      webhooks: {
        keyPrefix: `${prefix}:drain`,
        blockMs: 100,
        beforeProcess: async () => {
          started = true
          await sleep(400)
        },
      },
    })
    await app.ready()
    expect(
      (await deliver(app, '{"charge":{"id":4,"customer_id":8,"updated_at":"2030-01-01T00:00:00"}}')).statusCode,
    ).toBe(200)
    await until(() => started)
    expect(counter(app, 'recharge_bridge_webhook_events_processed_total')).toBe(0)
    await app.close()
    expect(counter(app, 'recharge_bridge_webhook_events_processed_total')).toBe(1)
    expect(await redis.xLen(`${prefix}:drain:deliveries`)).toBe(0)
  })
})

describe('forwarding to a failing endpoint', () => {
  it('retries with backoff, then dead-letters the event with its error', async () => {
    const app = await buildApp(
      testConfig({
        ...recharge,
        REDIS_URL: redisUrl(),
        RECHARGE_WEBHOOK_SECRET: secret,
        WEBHOOK_FORWARD_URL: targetUrl,
        WEBHOOK_FORWARD_SECRET: 'forward-secret-0123456789',
      }),
      { webhooks: { keyPrefix: prefix, maxAttempts: 2, retryAfterMs: 200, blockMs: 100 } },
    )
    await app.ready()
    try {
      const body = '{"charge":{"id":99,"customer_id":2,"status":"success","updated_at":"2030-01-01T00:00:00"}}'
      expect((await deliver(app, body)).statusCode).toBe(200)
      await until(() => counter(app, 'recharge_bridge_webhook_events_dead_lettered_total') === 1, 20_000)
      // 2 attempts × 3 quick tries each.
      expect(targetHits).toBe(6)
      const dead = (await redis.xRange(`${prefix}:forward:dead`, '-', '+')) ?? []
      expect(dead).toHaveLength(1)
      expect(dead[0]?.message.error).toContain('500')
      expect(JSON.parse(dead[0]?.message.event ?? '{}')).toMatchObject({ topic: 'charge/paid', data: { id: 99 } })
      // The event itself was processed (caches invalidated) regardless of the merchant endpoint.
      expect(counter(app, 'recharge_bridge_webhook_events_processed_total')).toBe(1)
      expect(await redis.xLen(`${prefix}:forward`)).toBe(0)
    } finally {
      await app.close()
    }
  })
})
