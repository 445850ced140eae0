import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { AppDeps } from '../../src/app.ts'
import { buildApp } from '../../src/app.ts'
import type { RedisClient } from '../../src/infra/redis.ts'
import type { SimulatorOptions } from '../../src/simulator/options.ts'
import { testConfig } from './config.ts'
import { connectRedis, deleteKeys, redisUrl } from './redis.ts'
import { type SimSnapshot, startTestSimulator, type TestSimulator } from './simulator.ts'

/**
 * One bridge (or several, each with its own policy file) against a simulator over HTTP and the shared Redis, for the
 * shopper-API integration tests: mint a shopper token, call as that shopper, read the simulator's ledger and state.
 * Each harness has its own cache namespace and Redis key prefix, so files never see each other's keys. The one
 * harness for these tests (issue 22): add what a file needs here rather than writing another.
 *
 *   const h = await startShopperHarness('orders')
 *   const app = await h.bridge()                      // or h.bridge({ actions: { skip: false } })
 *   const alice = await h.mint(app, 'alice@example.com')
 *   const mark = await h.ledgerLength()
 *   const response = await h.call(app, alice, 'GET', '/v1/orders')
 *   expect(await h.upstreamSince(mark)).toEqual([...])
 */
export interface ShopperHarness {
  sim: TestSimulator
  redis: RedisClient
  namespace: string
  /** A bridge with this policy (JSON), its own namespace; closed by `close()`. */
  bridge(policy?: object, deps?: Partial<AppDeps>, env?: Record<string, string>): Promise<FastifyInstance>
  /** Another bridge like `app` (same policy, deps, env) sharing its namespace: a second replica of one deployment. */
  replica(app: FastifyInstance): Promise<FastifyInstance>
  /** Listens on a free loopback port (for the simulator's webhooks) and answers the bridge's base URL. */
  listen(app: FastifyInstance): Promise<string>
  mint(app: FastifyInstance, email: string): Promise<string>
  call(
    app: FastifyInstance,
    token: string,
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    url: string,
    payload?: object,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>
  /** `METHOD path` of every upstream call since `since` (a ledger length). */
  upstreamSince(since: number): Promise<string[]>
  ledgerLength(): Promise<number>
  customerId(email: string): Promise<string>
  /** A fresh simulator and no cached view of it in any bridge of this harness. */
  reset(): Promise<void>
  close(): Promise<void>
}

/** The admin key of testConfig(), for minting shopper tokens. */
const ADMIN_KEY = 'test-admin-key-0123456789abcdef'

interface BridgeSetup {
  policy?: object
  deps: Partial<AppDeps>
  env: Record<string, string>
  namespace: string
}

export async function startShopperHarness(name: string, simOptions: SimulatorOptions = {}): Promise<ShopperHarness> {
  const namespace = `t${name}${randomBytes(3).toString('hex')}-`
  const sim = await startTestSimulator({
    apiTokens: [`sk_test_${namespace}`],
    bucketSize: 1000,
    leakRate: 1000,
    ...simOptions,
  })
  const redis = await connectRedis()
  const setups = new Map<FastifyInstance, BridgeSetup>()
  let count = 0

  async function build(setup: BridgeSetup): Promise<FastifyInstance> {
    count += 1
    let policyFile: string | undefined
    if (setup.policy) {
      policyFile = join(tmpdir(), `policy-${namespace}${count}.json`)
      writeFileSync(policyFile, JSON.stringify(setup.policy))
    }
    const app = await buildApp(
      testConfig({
        RECHARGE_API_URL: sim.url,
        RECHARGE_API_TOKEN: sim.apiToken,
        RECHARGE_STORE_SUBDOMAIN: sim.storeSubdomain,
        RECHARGE_BUCKET_SIZE: '1000',
        RECHARGE_LEAK_RATE: '1000',
        REDIS_URL: redisUrl(),
        ...(policyFile ? { POLICY_FILE: policyFile } : {}),
        ...setup.env,
      }),
      { redis, backgroundWorkers: false, shopper: { namespace: setup.namespace }, ...setup.deps },
    )
    await app.ready()
    setups.set(app, setup)
    return app
  }

  const harness: ShopperHarness = {
    sim,
    redis,
    namespace,
    bridge(policy, deps = {}, env = {}) {
      return build({ policy, deps, env, namespace: `${namespace}${count + 1}-` })
    },
    replica(app) {
      const setup = setups.get(app)
      if (!setup) throw new Error('replica: not a bridge of this harness')
      return build(setup)
    },
    listen(app) {
      return app.listen({ port: 0, host: '127.0.0.1' })
    },
    async mint(app, email) {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/admin/customer-tokens',
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
        payload: { email },
      })
      if (response.statusCode !== 201) throw new Error(`mint ${email}: ${response.statusCode} ${response.body}`)
      return response.json().token
    },
    call(app, token, method, url, payload, headers = {}) {
      return app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${token}`, ...headers },
        ...(payload ? { payload } : method === 'POST' ? { payload: {} } : {}),
      })
    },
    async upstreamSince(since) {
      return (await sim.ledger()).slice(since).map((entry) => `${entry.method} ${entry.path}`)
    },
    async ledgerLength() {
      return (await sim.ledger()).length
    },
    async customerId(email) {
      const state = await sim.state()
      return String(state.customers.find((row) => row.email === email)?.id)
    },
    async reset() {
      await sim.reset()
      const state = await sim.state()
      const tags = state.customers.map((row) => `customer:${row.id}`)
      for (const app of setups.keys()) await app.cache.invalidateTags([...tags, 'retention-strategies'])
    },
    async close() {
      for (const app of setups.keys()) await app.close()
      await sim.close()
      await deleteKeys(redis, `rb:*${namespace}*`)
      await redis.close()
    },
  }
  return harness
}

/** An active subscription of the customer with a queued charge, and that charge. */
export function activeWithQueuedCharge(state: SimSnapshot, customerId: string) {
  for (const subscription of state.subscriptions) {
    if (String(subscription.customer_id) !== customerId || subscription.status !== 'active') continue
    const charge = state.charges.find(
      (row) => row.status === 'queued' && row.line_items.some((item) => item.purchase_item_id === subscription.id),
    )
    if (charge) return { subscription, charge }
  }
  throw new Error('no active subscription with a queued charge')
}

export function dateInDays(days: number): string {
  const now = new Date()
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + days)).toISOString().slice(0, 10)
}
