import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { RedisClient } from '../../src/infra/redis.ts'
import { testConfig } from '../support/config.ts'
import { connectRedis, deleteKeys, redisUrl, uniquePrefix } from '../support/redis.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'
import { until } from '../support/until.ts'

/**
 * The storefront catalog stays true through webhooks: a plan changed in Recharge (the simulator) sends a signed
 * `plan/*` delivery; the bridge's intake invalidates the catalog's cache tags, and the next storefront read shows the
 * change at once (well before the 60 s TTL). Recharge 2021-11 has no `product/*` topics: product records changed by
 * the bridge's own sync are invalidated by the sync (catalog-storefront.test.ts), others expire by TTL.
 */
const clientSecret = 'sim_whsec_catalog_0001'
const adminKey = 'test-admin-key-0123456789abcdef'
const prefix = uniquePrefix('catalog-webhooks')
const namespace = prefix.replaceAll(':', '-')
const apiToken = `sk_test_${namespace}`

let relay: Server
let sim: TestSimulator
let bridge: FastifyInstance
let bridgeUrl = ''
let redis: RedisClient

async function upstream(method: 'PUT' | 'DELETE', path: string, body?: unknown): Promise<number> {
  const response = await request(`${sim.url}${path}`, {
    method,
    headers: { ...sim.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  await response.body.dump()
  return response.statusCode
}

/** Deliver what the simulator has queued and wait until the bridge has processed it. */
async function deliver(): Promise<void> {
  const deliveries = await sim.deliverWebhooks()
  expect(deliveries.length).toBeGreaterThan(0)
  await until(async () => (await bridge.webhooks.intakeQueue.pending()) === 0)
}

async function product(id: string) {
  const response = await bridge.inject({ method: 'GET', url: `/v1/catalog/products/${id}` })
  expect(response.statusCode).toBe(200)
  return { cache: response.headers['x-cache'], body: response.json().product }
}

beforeAll(async () => {
  redis = await connectRedis()
  // The bridge's public URL must be known before it listens: a relay on a fixed-at-start port forwards to it.
  relay = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = []
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
    incoming.on('end', async () => {
      const headers: Record<string, string> = {}
      for (const name of [
        'content-type',
        'x-recharge-topic',
        'x-recharge-hmac-sha256',
        'x-recharge-webhook-signature',
      ]) {
        const value = incoming.headers[name]
        if (typeof value === 'string') headers[name] = value
      }
      const response = await request(`${bridgeUrl}${incoming.url}`, {
        method: 'POST',
        headers,
        body: Buffer.concat(chunks),
      })
      await response.body.dump()
      outgoing.writeHead(response.statusCode).end()
    })
  })
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve))
  sim = await startTestSimulator({
    clientSecret,
    apiTokens: [apiToken],
    webhookAutoDeliver: false,
    bucketSize: 1000,
    leakRate: 1000,
  })
  bridge = await buildApp(
    testConfig({
      RECHARGE_API_TOKEN: apiToken,
      RECHARGE_API_URL: sim.url,
      RECHARGE_WEBHOOK_SECRET: clientSecret,
      REDIS_URL: redisUrl(),
      PUBLIC_URL: `http://127.0.0.1:${(relay.address() as AddressInfo).port}`,
      ADMIN_API_KEY: adminKey,
      RECHARGE_BUCKET_SIZE: '1000',
      RECHARGE_LEAK_RATE: '1000',
    }),
    {
      catalog: { namespace },
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
  const registered = await bridge.inject({
    method: 'POST',
    url: '/v1/admin/webhooks/register',
    headers: { authorization: `Bearer ${adminKey}` },
  })
  expect(registered.statusCode).toBe(200)
  await sim.deliverWebhooks()
}, 60_000)

afterAll(async () => {
  await bridge?.close()
  await sim?.close()
  await new Promise<void>((resolve) => relay?.close(() => resolve()))
  await deleteKeys(redis, `${prefix}*`)
  await deleteKeys(redis, `*${namespace}*`)
  await redis?.quit()
})

describe('catalog invalidation by webhooks', () => {
  it('shows a plan discount changed in Recharge on the next read (plan/updated)', async () => {
    const seeded = (await sim.state()).plans.find((plan) => plan.type === 'subscription' && plan.discount_amount)
    if (!seeded?.external_product_id.ecommerce) throw new Error('no seeded discounted plan')
    const id = seeded.external_product_id.ecommerce
    await product(id)
    expect((await product(id)).cache).toBe('HIT')

    expect(await upstream('PUT', `/plans/${seeded.id}`, { discount_type: 'percentage', discount_amount: '50' })).toBe(
      200,
    )
    await deliver()
    const after = await product(id)
    expect(after.cache).toBe('MISS')
    const plan = after.body.plans.find((p: { id: number }) => p.id === seeded.id)
    expect(plan.discount_amount).toBe('50.00')
    const unit = after.body.variants[0].prices[0].unit_price
    const price = after.body.variants[0].prices[0].plans.find((p: { id: number }) => p.id === seeded.id)
    expect(Number(price.discounted_price) * 2).toBeCloseTo(Number(unit), 1)
  })

  it('drops a deleted plan even though the delivery names only the plan id (plan/deleted → catalog tag)', async () => {
    const seeded = (await sim.state()).plans.find((plan) => plan.type === 'onetime')
    if (!seeded?.external_product_id.ecommerce) throw new Error('no seeded onetime plan')
    const id = seeded.external_product_id.ecommerce
    expect((await product(id)).body.plans.some((p: { id: number }) => p.id === seeded.id)).toBe(true)
    expect(await upstream('DELETE', `/plans/${seeded.id}`)).toBe(204)
    await deliver()
    expect((await product(id)).body.plans.some((p: { id: number }) => p.id === seeded.id)).toBe(false)
  })
})
