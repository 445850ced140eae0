import { randomUUID } from 'node:crypto'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { DisposableRedis } from '../../tools/redis-server.ts'
import { testConfig } from '../support/config.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * Several environments (or stores) may share one Redis: everything the bridge stores there — cache entries, the
 * rate-limit book, idempotency keys, locks, portal links, webhook streams — lives under REDIS_KEY_PREFIX. Run on a
 * private Redis so every key in it is ours to inspect.
 */
const adminKey = 'test-admin-key-0123456789abcdef'
let redis: DisposableRedis
let sim: TestSimulator

beforeAll(async () => {
  redis = await DisposableRedis.start()
  sim = await startTestSimulator({ apiTokens: ['sk_test_key_prefix'], bucketSize: 1000, leakRate: 1000 })
})

afterAll(async () => {
  await sim?.close()
  await redis?.stop()
})

describe('REDIS_KEY_PREFIX', () => {
  it('puts every key the bridge writes under the prefix', async () => {
    const app = await buildApp(
      testConfig({
        RECHARGE_API_URL: sim.url,
        RECHARGE_API_TOKEN: sim.apiToken,
        RECHARGE_WEBHOOK_SECRET: sim.clientSecret,
        RECHARGE_STORE_SUBDOMAIN: sim.storeSubdomain,
        RECHARGE_BUCKET_SIZE: '1000',
        RECHARGE_LEAK_RATE: '1000',
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: 'staging',
        ADMIN_API_KEY: adminKey,
      }),
      { backgroundWorkers: false },
    )
    try {
      const { token } = (
        await app.inject({
          method: 'POST',
          url: '/v1/admin/customer-tokens',
          headers: { authorization: `Bearer ${adminKey}` },
          payload: { email: 'alice@example.com' },
        })
      ).json()
      const shopper = { authorization: `Bearer ${token}` }
      const state = await sim.state()
      const product = state.products[0]?.external_product_id
      expect((await app.inject({ url: `/v1/catalog/products/${product}` })).statusCode).toBe(200)
      const list = await app.inject({ url: '/v1/subscriptions', headers: shopper })
      expect(list.statusCode).toBe(200)
      const subscription = list.json().subscriptions.find((s: { status: string }) => s.status === 'active')
      const skip = await app.inject({
        method: 'POST',
        url: `/v1/subscriptions/${subscription.id}/skip`,
        headers: { ...shopper, 'idempotency-key': randomUUID() },
      })
      expect(skip.statusCode).toBe(200)
      expect((await app.inject({ method: 'POST', url: '/v1/portal/links', headers: shopper })).statusCode).toBe(200)
    } finally {
      await app.close()
    }

    const client = createClient({ url: redis.url })
    await client.connect()
    const keys = await client.keys('*')
    await client.close()
    expect(keys.length).toBeGreaterThan(3)
    expect(keys.filter((key) => !key.startsWith('staging:'))).toEqual([])
  })
})
