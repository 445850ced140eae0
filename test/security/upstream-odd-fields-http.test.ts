import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { RedisClient } from '../../src/plugins/redis.ts'
import { testConfig } from '../support/config.ts'
import { connectRedis, deleteKeys, redisUrl } from '../support/redis.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * Over HTTP: the simulator serves a shopper's subscriptions as real store exports hold them (fields the bridge does
 * not read with odd types, read fields in their export forms), and the shopper's list answers 200 with the same data
 * as from the documented shapes; a row whose read field is unusable is left out and counted, the rest is served.
 * The odd page is the simulator's own answer for the shopper, rewritten and served by a simulator fault rule.
 */
const namespaces: string[] = []
const adminKey = 'test-admin-key-0123456789abcdef'
const email = 'alice@example.com'

let sim: TestSimulator
let redis: RedisClient
const apps: FastifyInstance[] = []

type Row = Record<string, unknown>

/** A bridge with its own cache namespace, so each test reads Recharge cold. */
async function bridge(): Promise<FastifyInstance> {
  const namespace = `t${randomBytes(4).toString('hex')}-`
  namespaces.push(namespace)
  const app = await buildApp(
    testConfig({
      RECHARGE_API_URL: sim.url,
      RECHARGE_API_TOKEN: sim.apiToken,
      RECHARGE_STORE_SUBDOMAIN: sim.storeSubdomain,
      RECHARGE_BUCKET_SIZE: '1000',
      RECHARGE_LEAK_RATE: '1000',
      REDIS_URL: redisUrl(),
    }),
    { redis, backgroundWorkers: false, shopper: { namespace } },
  )
  await app.ready()
  apps.push(app)
  return app
}

async function subscriptionsOf(app: FastifyInstance) {
  const minted = await app.inject({
    method: 'POST',
    url: '/v1/admin/customer-tokens',
    headers: { authorization: `Bearer ${adminKey}` },
    payload: { email },
  })
  expect(minted.statusCode).toBe(201)
  return app.inject({
    method: 'GET',
    url: '/v1/subscriptions',
    headers: { authorization: `Bearer ${minted.json().token}` },
  })
}

/** The simulator's own subscriptions page for the shopper (the documented shapes). */
async function upstreamPage(): Promise<{ subscriptions: Row[] } & Row> {
  const state = await sim.state()
  const customer = state.customers.find((candidate) => candidate.email === email)
  if (!customer) throw new Error(`no ${email} in the simulator seed`)
  const page = await sim.api('GET', `/subscriptions?customer_id=${customer.id}&limit=250`)
  expect(page.status).toBe(200)
  expect(page.body.subscriptions.length).toBeGreaterThan(1)
  return page.body
}

/** A subscription as a store export holds it: odd types in fields the bridge does not read, export forms in others. */
function asExported(row: Row): Row {
  return {
    ...row,
    // Not read by the bridge: any type at all.
    properties: JSON.stringify(row.properties ?? []),
    analytics_data: '{"utm_params":[]}',
    sku_override: 1,
    has_queued_charges: '0',
    max_retries_reached: 'false',
    order_day_of_month: '',
    expire_after_specific_number_of_charges: '3',
    cancellation_reason_comments: { note: ['a', 1] },
    customer_id: 'not-a-number',
    created_at: 1_646_900_000,
    updated_at: [[], {}],
    sku: false,
    // Read by the bridge, in the forms exports show.
    quantity: String(row.quantity),
    order_interval_frequency: String(row.order_interval_frequency),
    charge_interval_frequency: ` ${row.charge_interval_frequency} `,
    is_prepaid: row.is_prepaid ? 1 : 0,
    is_skippable: row.is_skippable === false ? 'false' : 'true',
    external_variant_id: JSON.stringify(row.external_variant_id),
  }
}

async function serveFromSimulator(body: unknown): Promise<void> {
  await sim.setFaults([{ match: { method: 'GET', path: '^/subscriptions$' }, status: 200, body }])
}

beforeAll(async () => {
  sim = await startTestSimulator({
    apiTokens: [`sk_test_odd_${randomBytes(4).toString('hex')}`],
    bucketSize: 1000,
    leakRate: 1000,
  })
  redis = await connectRedis()
})

afterAll(async () => {
  for (const app of apps) await app.close()
  for (const namespace of namespaces) await deleteKeys(redis, `${namespace}*`)
  await redis?.close()
  await sim?.close()
})

describe("a shopper's subscriptions when Recharge's record has fields of unexpected types", () => {
  it('answer 200 with the same subscriptions as the documented shapes give, not 502', async () => {
    const page = await upstreamPage()
    const documented = await subscriptionsOf(await bridge())
    expect(documented.statusCode).toBe(200)

    await serveFromSimulator({ ...page, subscriptions: page.subscriptions.map(asExported) })
    try {
      const exported = await subscriptionsOf(await bridge())
      expect(exported.statusCode).toBe(200)
      expect(exported.json()).toEqual(documented.json())
      expect(exported.json().subscriptions).toHaveLength(page.subscriptions.length)
    } finally {
      await sim.clearFaults()
    }
  })

  it('leave out only a row whose read field is unusable, serve the others, and count it', async () => {
    const page = await upstreamPage()
    const [broken, ...others] = page.subscriptions as [Row, ...Row[]]
    await serveFromSimulator({ ...page, subscriptions: [{ ...broken, status: { state: 'active' } }, ...others] })
    try {
      const app = await bridge()
      const response = await subscriptionsOf(app)
      expect(response.statusCode).toBe(200)
      const served = response.json().subscriptions.map((row: { id: string }) => row.id)
      expect(served).toEqual(others.map((row) => String(row.id)))
      const metrics = await app.inject({ method: 'GET', url: '/metrics' })
      expect(metrics.body).toMatch(
        /recharge_bridge_recharge_unusable_rows_total\{operation="GET \/subscriptions"\} 1\b/,
      )
    } finally {
      await sim.clearFaults()
    }
  })
})
