import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { buildApp } from '../../src/app.ts'
import type { RedisClient } from '../../src/infra/redis.ts'
import type { PolicyInput } from '../../src/shopper/policy.ts'
import type { ShopperTuning } from '../../src/shopper/service.ts'
import { testConfig } from './config.ts'
import { connectRedis, deleteKeys, redisUrl } from './redis.ts'
import { startTestSimulator, type TestSimulator } from './simulator.ts'

/**
 * A bridge in front of the simulator over HTTP with a real Redis, for the shopper-route test files: each file gets
 * its own namespace (cache names and Redis keys) and its own simulator, and cleans its keys up at the end.
 *
 *   const world = await startShopperWorld('orders')
 *   const alice = await world.token('alice@example.com')
 *   const response = await world.call(alice, 'GET', '/v1/orders')
 *   expect(await world.upstreamSince(mark)).toEqual([...])
 */
export const ADMIN_KEY = 'test-admin-key-0123456789abcdef'

export interface ShopperWorld {
  sim: TestSimulator
  redis: RedisClient
  app: FastifyInstance
  namespace: string
  /** Another bridge on the same simulator and Redis (a replica, or one with another policy). */
  bridge(options?: { policy?: PolicyInput; namespace?: string; tuning?: ShopperTuning }): Promise<FastifyInstance>
  token(email: string, instance?: FastifyInstance): Promise<string>
  customerId(email: string): Promise<string>
  call(
    token: string,
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    url: string,
    payload?: object,
    headers?: Record<string, string>,
    instance?: FastifyInstance,
  ): Promise<LightMyRequestResponse>
  /** The ledger's length now: pass to upstreamSince. */
  mark(): Promise<number>
  /** `METHOD /path` of every upstream call since `mark`. */
  upstreamSince(mark: number): Promise<string[]>
  /** Fresh simulator records, and the cached views of these customers dropped. */
  reset(customerIds: string[]): Promise<void>
  close(): Promise<void>
}

export async function startShopperWorld(name: string, tuning: ShopperTuning = {}): Promise<ShopperWorld> {
  const namespace = `t${name}${randomBytes(4).toString('hex')}-`
  const sim = await startTestSimulator({ bucketSize: 1000, leakRate: 1000, addressWriteWindowMs: 0 })
  const redis = await connectRedis()
  const instances: FastifyInstance[] = []

  async function bridge(
    options: { policy?: PolicyInput; namespace?: string; tuning?: ShopperTuning } = {},
  ): Promise<FastifyInstance> {
    let policyFile: string | undefined
    if (options.policy) {
      policyFile = join(tmpdir(), `policy-${namespace}${randomBytes(3).toString('hex')}.json`)
      writeFileSync(policyFile, JSON.stringify(options.policy))
    }
    const instance = await buildApp(
      testConfig({
        RECHARGE_API_URL: sim.url,
        RECHARGE_API_TOKEN: sim.apiToken,
        RECHARGE_STORE_SUBDOMAIN: sim.storeSubdomain,
        RECHARGE_BUCKET_SIZE: '1000',
        RECHARGE_LEAK_RATE: '1000',
        REDIS_URL: redisUrl(),
        ...(policyFile ? { POLICY_FILE: policyFile } : {}),
      }),
      {
        redis,
        backgroundWorkers: false,
        shopper: { namespace: options.namespace ?? namespace, ...tuning, ...options.tuning },
      },
    )
    await instance.ready()
    instances.push(instance)
    return instance
  }

  const app = await bridge()

  const world: ShopperWorld = {
    sim,
    redis,
    app,
    namespace,
    bridge,
    async token(email, instance = app) {
      const response = await instance.inject({
        method: 'POST',
        url: '/v1/admin/customer-tokens',
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
        payload: { email },
      })
      if (response.statusCode !== 201) throw new Error(`token for ${email}: ${response.statusCode} ${response.body}`)
      return response.json().token
    },
    async customerId(email) {
      const state = await sim.state()
      const customer = state.customers.find((row) => row.email === email)
      if (!customer) throw new Error(`no customer ${email}`)
      return String(customer.id)
    },
    call(token, method, url, payload, headers = {}, instance = app) {
      return instance.inject({
        method,
        url,
        headers: { authorization: `Bearer ${token}`, ...headers },
        ...(payload ? { payload } : {}),
      })
    },
    async mark() {
      return (await sim.ledger()).length
    },
    async upstreamSince(mark) {
      return (await sim.ledger()).slice(mark).map((entry) => `${entry.method} ${entry.path}`)
    },
    async reset(customerIds) {
      await sim.reset()
      await sim.clearFaults()
      const tags = customerIds.map((id) => `customer:${id}`)
      for (const instance of instances) await instance.cache.invalidateTags(tags)
    },
    async close() {
      for (const instance of instances) await instance.close()
      await sim.close()
      await deleteKeys(redis, `rb:${namespace}*`)
      await deleteKeys(redis, `rb:*${namespace}*`)
      await redis.close()
    },
  }
  return world
}
