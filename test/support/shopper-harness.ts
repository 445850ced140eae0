import { randomBytes } from 'node:crypto'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { expect } from 'vitest'
import { type AppDeps, buildApp } from '../../src/app.ts'
import type { RedisClient } from '../../src/infra/redis.ts'
import { testConfig } from './config.ts'
import { connectRedis, deleteKeys, redisUrl } from './redis.ts'
import { startTestSimulator, type TestSimulator } from './simulator.ts'

/**
 * A bridge on the simulator and the shared Redis, for the shopper feature tests (one-time add-ons, the delivery
 * schedule): its own cache namespace, tokens for alice and bob, and the ledger helpers the ownership and
 * Idempotency-Key assertions use.
 */
export interface ShopperHarness {
  sim: TestSimulator
  redis: RedisClient
  app: FastifyInstance
  namespace: string
  alice: string
  bob: string
  aliceId: string
  bobId: string
  /** Another bridge on the same simulator; `listen` to receive webhooks, `deps` to add to or replace the defaults. */
  bridge(
    overrides?: Record<string, string>,
    namespace?: string,
    listen?: boolean,
    deps?: Partial<AppDeps>,
  ): Promise<FastifyInstance>
  mint(instance: FastifyInstance, email: string): Promise<string>
  call(
    token: string,
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    payload?: object,
    headers?: Record<string, string>,
    instance?: FastifyInstance,
  ): Promise<LightMyRequestResponse>
  /** Upstream calls (`METHOD /path`) since ledger position `since`. */
  upstreamSince(since: number): Promise<string[]>
  ledgerLength(): Promise<number>
  /** Fresh simulator records and no cached view of the old ones. */
  reset(): Promise<void>
  close(): Promise<void>
}

export function dateInDays(days: number): string {
  const now = new Date()
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + days)).toISOString().slice(0, 10)
}

export async function startShopperHarness(
  name: string,
  simOptions: Parameters<typeof startTestSimulator>[0] = {},
): Promise<ShopperHarness> {
  const namespace = `${name}${randomBytes(4).toString('hex')}-`
  // Its own token: the rate limiter's Redis keys are per token, shared by every file that uses the same one.
  const sim = await startTestSimulator({
    apiTokens: [`sk_test_${namespace}`],
    bucketSize: 1000,
    leakRate: 1000,
    ...simOptions,
  })
  const redis = await connectRedis()
  const instances: FastifyInstance[] = []

  const bridge = async (
    overrides: Record<string, string> = {},
    ns = namespace,
    listen = false,
    deps: Partial<AppDeps> = {},
  ) => {
    const instance = await buildApp(
      testConfig({
        RECHARGE_API_URL: sim.url,
        RECHARGE_API_TOKEN: sim.apiToken,
        RECHARGE_STORE_SUBDOMAIN: sim.storeSubdomain,
        RECHARGE_BUCKET_SIZE: '1000',
        RECHARGE_LEAK_RATE: '1000',
        REDIS_URL: redisUrl(),
        ...overrides,
      }),
      { redis, backgroundWorkers: false, shopper: { namespace: ns }, ...deps },
    )
    instances.push(instance)
    if (listen) await instance.listen({ port: 0, host: '127.0.0.1' })
    else await instance.ready()
    return instance
  }

  const mint = async (instance: FastifyInstance, email: string) => {
    const response = await instance.inject({
      method: 'POST',
      url: '/v1/admin/customer-tokens',
      headers: { authorization: 'Bearer test-admin-key-0123456789abcdef' },
      payload: { email },
    })
    expect(response.statusCode).toBe(201)
    return response.json().token as string
  }

  const app = await bridge()
  const state = await sim.state()
  const idOf = (email: string) => String(state.customers.find((row) => row.email === email)?.id)
  const harness: ShopperHarness = {
    sim,
    redis,
    app,
    namespace,
    alice: await mint(app, 'alice@example.com'),
    bob: await mint(app, 'bob@example.com'),
    aliceId: idOf('alice@example.com'),
    bobId: idOf('bob@example.com'),
    bridge,
    mint,
    call(token, method, url, payload, headers = {}, instance = app) {
      return instance.inject({
        method,
        url,
        headers: { authorization: `Bearer ${token}`, ...headers },
        ...(payload ? { payload } : method === 'GET' || method === 'DELETE' ? {} : { payload: {} }),
      })
    },
    async upstreamSince(since) {
      return (await sim.ledger()).slice(since).map((entry) => `${entry.method} ${entry.path}`)
    },
    async ledgerLength() {
      return (await sim.ledger()).length
    },
    async reset() {
      await sim.reset()
      for (const instance of instances) {
        await instance.cache.invalidateTags([`customer:${harness.aliceId}`, `customer:${harness.bobId}`])
      }
    },
    async close() {
      for (const instance of instances) await instance.close()
      await sim.close()
      await deleteKeys(redis, `rb:*${namespace}*`)
      await redis.close()
    },
  }
  return harness
}
