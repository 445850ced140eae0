import { randomBytes, randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { DisposableRedis } from '../../tools/redis-server.ts'
import { testConfig } from '../support/config.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * Redis dies under a running bridge: shopper reads keep answering, writes without a key keep working, portal links
 * and the write budget fall back to this process. A write with an Idempotency-Key is refused (503, Retry-After)
 * before anything is sent: no store can tell whether the key was applied. Nothing hangs.
 */
const namespace = `t${randomBytes(4).toString('hex')}-`
const adminKey = 'test-admin-key-0123456789abcdef'

let sim: TestSimulator
let redis: DisposableRedis
let app: FastifyInstance

beforeAll(async () => {
  sim = await startTestSimulator({ apiTokens: [`sk_test_${namespace}`], bucketSize: 1000, leakRate: 1000 })
  redis = await DisposableRedis.start()
  app = await buildApp(
    testConfig({
      RECHARGE_API_URL: sim.url,
      RECHARGE_API_TOKEN: sim.apiToken,
      RECHARGE_STORE_SUBDOMAIN: sim.storeSubdomain,
      RECHARGE_BUCKET_SIZE: '1000',
      RECHARGE_LEAK_RATE: '1000',
      REDIS_URL: redis.url,
    }),
    { backgroundWorkers: false, shopper: { namespace } },
  )
  await app.ready()
})

afterAll(async () => {
  await app?.close()
  await sim?.close()
  await redis?.stop()
})

describe('shopper API with Redis down', () => {
  it('keeps serving reads, unkeyed writes and portal links, and refuses keyed writes before sending them', async () => {
    const minted = await app.inject({
      method: 'POST',
      url: '/v1/admin/customer-tokens',
      headers: { authorization: `Bearer ${adminKey}` },
      payload: { email: 'alice@example.com' },
    })
    const auth = { authorization: `Bearer ${minted.json().token}` }
    const warm = await app.inject({ method: 'GET', url: '/v1/subscriptions', headers: auth })
    expect(warm.statusCode).toBe(200)
    const subscription = warm.json().subscriptions.find((row: { status: string }) => row.status === 'active')

    await redis.stop()

    const read = await app.inject({ method: 'GET', url: '/v1/subscriptions', headers: auth })
    expect(read.statusCode).toBe(200)
    expect(read.json().subscriptions.length).toBe(warm.json().subscriptions.length)

    const before = (await sim.ledger({ method: 'PUT' })).length
    const write = (headers: Record<string, string>) =>
      app.inject({
        method: 'PATCH',
        url: `/v1/subscriptions/${subscription.id}`,
        headers: { ...auth, ...headers },
        payload: { quantity: 3 },
      })
    const keyed = await write({ 'idempotency-key': randomUUID() })
    expect(keyed.statusCode).toBe(503)
    expect(keyed.headers['content-type']).toContain('application/problem+json')
    expect(keyed.json().code).toBe('IDEMPOTENCY_STORE_UNAVAILABLE')
    expect(Number(keyed.headers['retry-after'])).toBeGreaterThan(0)
    expect((await sim.ledger({ method: 'PUT' })).length - before).toBe(0)

    const unkeyed = await write({})
    expect(unkeyed.statusCode).toBe(200)
    expect((await sim.ledger({ method: 'PUT' })).length - before).toBe(1)

    const link = await app.inject({ method: 'POST', url: '/v1/portal/links', headers: auth })
    expect(link.statusCode).toBe(200)
    const url = new URL(link.json().url)
    const redirect = await app.inject({ method: 'GET', url: `${url.pathname}${url.search}` })
    expect(redirect.statusCode).toBe(302)
  })
})
