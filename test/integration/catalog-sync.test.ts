import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { sampleFeed } from '../../src/catalog/sample-feed.ts'
import type { SyncJobStatus } from '../../src/catalog/sync/types.ts'
import type { RedisClient } from '../../src/infra/redis.ts'
import { testConfig } from '../support/config.ts'
import { connectRedis, deleteKeys, redisUrl } from '../support/redis.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * The catalog sync against the simulator over HTTP and a real Redis: a generated feed creates exactly its products
 * and plans; a modified feed writes exactly the differences; an identical second run writes nothing; a run
 * interrupted after N writes and run again finishes with no duplicates; one sync per store at a time.
 */
const adminKey = 'test-admin-key-0123456789abcdef'
const namespace = `catalog-sync-${randomBytes(4).toString('hex')}`
const auth = { authorization: `Bearer ${adminKey}` }

let sim: TestSimulator
let redis: RedisClient
let app: FastifyInstance

async function bridge(target: TestSimulator): Promise<FastifyInstance> {
  const instance = await buildApp(
    testConfig({
      RECHARGE_API_URL: target.url,
      RECHARGE_API_TOKEN: target.apiToken,
      RECHARGE_BUCKET_SIZE: '1000',
      RECHARGE_LEAK_RATE: '1000',
      REDIS_URL: redisUrl(),
    }),
    { redis, backgroundWorkers: false, catalog: { namespace } },
  )
  await instance.ready()
  return instance
}

async function writesSince(target: TestSimulator, mark: number) {
  return (await target.ledger()).slice(mark).filter((entry) => entry.method !== 'GET')
}

async function syncOverHttp(instance: FastifyInstance, body: Record<string, unknown>): Promise<SyncJobStatus> {
  const started = await instance.inject({ method: 'POST', url: '/v1/admin/catalog/sync', headers: auth, payload: body })
  expect(started.statusCode, started.body).toBe(202)
  const { job } = started.json() as { job: SyncJobStatus }
  expect(started.headers.location).toBe(`/v1/admin/catalog/sync/${job.id}`)
  for (;;) {
    const polled = await instance.inject({ method: 'GET', url: `/v1/admin/catalog/sync/${job.id}`, headers: auth })
    expect(polled.statusCode).toBe(200)
    const status = (polled.json() as { job: SyncJobStatus }).job
    if (status.state !== 'running') return status
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

function plansByProduct(plans: { external_product_id: { ecommerce: string | null } }[]) {
  const counts = new Map<string, number>()
  for (const plan of plans) {
    const id = plan.external_product_id.ecommerce ?? ''
    counts.set(id, (counts.get(id) ?? 0) + 1)
  }
  return counts
}

beforeAll(async () => {
  sim = await startTestSimulator({ apiTokens: [`sk_test_${namespace}`], bucketSize: 1000, leakRate: 1000 })
  redis = await connectRedis()
  app = await bridge(sim)
})

afterAll(async () => {
  await app?.close()
  await sim?.close()
  await deleteKeys(redis, `*${namespace}*`)
  await redis?.quit()
})

describe('catalog sync', () => {
  const feed = sampleFeed({ products: 30, prefix: 'sync' })
  // Plans per product in the sample feed: 3 weekly + prepaid on every 5th + onetime on every 3rd.
  const expectedPlans = (i: number) => 3 + (i % 5 === 0 ? 1 : 0) + (i % 3 === 0 ? 1 : 0)

  /** Each test that needs the feed in Recharge puts it there itself: the seeded store, then one sync of `feed`. */
  async function storeHoldingFeed(): Promise<void> {
    await sim.reset()
    const job = await syncOverHttp(app, { feed })
    expect(job.state, JSON.stringify(job.report?.errors ?? job.error)).toBe('succeeded')
  }

  it('creates the feed products and plans (async batches for 30 products) and removes products not in the feed', async () => {
    await sim.reset()
    const seeded = (await sim.state()).products.map((product) => product.external_product_id)
    const mark = (await sim.ledger()).length
    const job = await syncOverHttp(app, { feed })
    expect(job.state, JSON.stringify(job.report?.errors ?? job.error)).toBe('succeeded')
    expect(job.report?.totals).toMatchObject({
      productCreates: 30,
      productDeletes: seeded.length,
      planCreates: feed.products.reduce((sum, _p, i) => sum + expectedPlans(i), 0),
    })
    expect(job.report?.strategy.planCreates).toBe('batch')

    const state = await sim.state()
    expect(state.products.map((p) => p.external_product_id).sort()).toEqual(
      feed.products.map((p) => p.external_product_id).sort(),
    )
    const counts = plansByProduct(state.plans)
    feed.products.forEach((product, i) => {
      expect(counts.get(product.external_product_id)).toBe(expectedPlans(i))
    })

    const writes = await writesSince(sim, mark)
    expect(writes.filter((w) => w.method === 'POST' && w.path === '/products')).toHaveLength(30)
    // Plans went through one async batch: create, add tasks, process (not 30 plans-bulk calls).
    expect(writes.filter((w) => w.method === 'POST' && w.path.endsWith('/plans-bulk'))).toHaveLength(0)
    expect(writes.filter((w) => w.path.startsWith('/async_batches'))).toHaveLength(3)
  })

  it('makes zero writes when run again with the same feed', async () => {
    await storeHoldingFeed()
    const mark = (await sim.ledger()).length
    const job = await syncOverHttp(app, { feed })
    expect(job.state).toBe('succeeded')
    expect(job.report?.unchanged).toBe(30)
    expect(job.report?.calls.writes).toBe(0)
    expect(await writesSince(sim, mark)).toEqual([])
  })

  it('writes exactly the differences of a modified feed', async () => {
    await storeHoldingFeed()
    const modified = structuredClone(feed)
    const [first, second, third, fourth] = modified.products
    if (!first || !second || !third || !fourth) throw new Error('feed too small')
    first.variants[0]!.price = '99.99' // product update
    second.title = 'Renamed product' // product update
    third.offers[0] = {
      ...third.offers[0]!,
      discount: { type: 'percentage', amount: '20' },
    } as (typeof third.offers)[0] // 3 plan updates
    const removed = modified.products.splice(4, 1)[0]! // product delete (with its plans)
    fourth.offers.push({ type: 'subscription', interval_unit: 'day', intervals: [10], discount: null }) // plan create

    const mark = (await sim.ledger()).length
    const job = await syncOverHttp(app, { feed: modified })
    expect(job.state, JSON.stringify(job.report?.errors)).toBe('succeeded')
    expect(job.report?.totals).toEqual({
      productCreates: 0,
      productUpdates: 2,
      productDeletes: 1,
      planCreates: 1,
      planUpdates: 3,
      planDeletes: expectedPlans(4),
    })
    const writes = (await writesSince(sim, mark)).map((w) => `${w.method} ${w.path}`).sort()
    expect(writes).toEqual(
      [
        `PUT /products/${first.external_product_id}`,
        `PUT /products/${second.external_product_id}`,
        `PUT /products/${third.external_product_id}/plans-bulk`,
        `POST /products/${fourth.external_product_id}/plans-bulk`,
        `DELETE /products/${removed.external_product_id}/plans-bulk`,
        `DELETE /products/${removed.external_product_id}`,
      ].sort(),
    )
    const state = await sim.state()
    expect(
      state.products.find((p) => p.external_product_id === first.external_product_id)?.variants[0]?.prices.unit_price,
    ).toBe('99.99')
    expect(state.products.some((p) => p.external_product_id === removed.external_product_id)).toBe(false)
    const thirdPlans = state.plans.filter((p) => p.external_product_id.ecommerce === third.external_product_id)
    expect(thirdPlans.filter((p) => p.type === 'subscription').map((p) => p.discount_amount)).toEqual([
      '20.00',
      '20.00',
      '20.00',
    ])

    // And the modified feed is now the steady state.
    const again = await syncOverHttp(app, { feed: modified })
    expect(again.report?.calls.writes).toBe(0)
  })

  it('resumes an interrupted run without duplicating anything', async () => {
    const big = sampleFeed({ products: 40, prefix: 'resume' })
    const combined = { version: 1 as const, products: [...big.products] }
    let writes = 0
    const started = await app.catalogSync.start({
      feed: combined,
      planStrategy: 'bulk',
      deleteMissing: false,
      source: 'api',
      afterWrite: () => {
        writes += 1
        if (writes === 25 && started.ok) app.catalogSync.cancel(started.job.id)
      },
    })
    if (!started.ok) throw new Error('lock held')
    const interrupted = await started.done
    expect(interrupted.state).toBe('cancelled')
    const ours = (products: { external_product_id: string }[]) =>
      products.filter((p) => p.external_product_id.startsWith('resume'))
    const midway = ours((await sim.state()).products)
    expect(midway.length).toBeGreaterThan(0)
    expect(midway.length).toBeLessThan(40)

    const mark = (await sim.ledger()).length
    const job = await syncOverHttp(app, { feed: combined, plan_strategy: 'bulk', delete_missing: false })
    expect(job.state, JSON.stringify(job.report?.errors)).toBe('succeeded')
    expect(job.report?.resumed).toBe(true)

    const state = await sim.state()
    expect(
      ours(state.products)
        .map((p) => p.external_product_id)
        .sort(),
    ).toEqual(big.products.map((p) => p.external_product_id).sort())
    const counts = plansByProduct(state.plans)
    big.products.forEach((product, i) => {
      expect(counts.get(product.external_product_id)).toBe(expectedPlans(i))
    })
    // No product was created twice across the two runs: the re-run created exactly the ones still missing.
    const resumedCreates = (await writesSince(sim, mark)).filter((w) => w.method === 'POST' && w.path === '/products')
    expect(resumedCreates.length + midway.length).toBe(40)
    expect((await sim.ledger({ method: 'POST', path: '/products' })).filter((w) => w.status === 422)).toHaveLength(0)
  })

  it('waits for the async batch an interrupted run submitted before reading, and creates no duplicate plans', async () => {
    const batched = sampleFeed({ products: 12, prefix: 'batchresume' })
    const started = await app.catalogSync.start({
      feed: batched,
      planStrategy: 'batch',
      deleteMissing: false,
      source: 'api',
      afterWrite: (method, path) => {
        // Stop right after the batch is submitted: its tasks run upstream while nobody watches.
        if (method === 'POST' && path.endsWith('/process') && started.ok) app.catalogSync.cancel(started.job.id)
      },
    })
    if (!started.ok) throw new Error('lock held')
    expect((await started.done).state).toBe('cancelled')
    const batchId = (await sim.state()).async_batches.at(-1)?.id
    expect(batchId).toBeDefined()

    const mark = (await sim.ledger()).length
    const job = await syncOverHttp(app, { feed: batched, plan_strategy: 'batch', delete_missing: false })
    expect(job.state, JSON.stringify(job.report?.errors)).toBe('succeeded')
    expect(job.report?.resumed).toBe(true)
    const requests = (await sim.ledger()).slice(mark).map((entry) => `${entry.method} ${entry.path}`)
    expect(requests.indexOf(`GET /async_batches/${batchId}`)).toBeGreaterThanOrEqual(0)
    expect(requests.indexOf(`GET /async_batches/${batchId}`)).toBeLessThan(requests.indexOf('GET /products'))
    // The batch had created the plans: the resumed run found them and wrote nothing for plans.
    expect(job.report?.totals.planCreates).toBe(0)
    const counts = plansByProduct((await sim.state()).plans)
    batched.products.forEach((product, i) => {
      expect(counts.get(product.external_product_id)).toBe(expectedPlans(i))
    })
  })

  it('runs one writing sync per store: a second start gets 409 with the running job id', async () => {
    // The first run is held at its first Recharge call until the others have been answered.
    await sim.setFaults([{ match: { method: 'GET', path: '/store' }, gate: 'first-sync', count: 1 }])
    const first = await app.inject({
      method: 'POST',
      url: '/v1/admin/catalog/sync',
      headers: auth,
      payload: { feed, delete_missing: false },
    })
    expect(first.statusCode).toBe(202)
    await expect.poll(() => sim.heldAt('first-sync'), { timeout: 15_000 }).toBe(1)
    const second = await app.inject({ method: 'POST', url: '/v1/admin/catalog/sync', headers: auth, payload: { feed } })
    expect(second.statusCode).toBe(409)
    expect(second.json()).toMatchObject({ code: 'CONFLICT', jobId: first.json().job.id })
    // A dry run only reads, so it may run alongside.
    const dry = await app.inject({
      method: 'POST',
      url: '/v1/admin/catalog/sync',
      headers: auth,
      payload: { feed, dry_run: true },
    })
    expect(dry.statusCode).toBe(202)
    await sim.openGate('first-sync')
    for (const job of [first.json().job.id, dry.json().job.id]) {
      await expect
        .poll(
          async () =>
            (await app.inject({ method: 'GET', url: `/v1/admin/catalog/sync/${job}`, headers: auth })).json().job.state,
          { timeout: 30_000, interval: 20 },
        )
        .toBe('succeeded')
    }
  })

  it('refuses a feed that would delete most of the catalog unless mass deletes are allowed', async () => {
    await storeHoldingFeed()
    const truncated = { version: 1, products: feed.products.slice(0, 3) }
    const mark = (await sim.ledger()).length
    const job = await syncOverHttp(app, { feed: truncated })
    expect(job.state).toBe('invalid')
    expect(job.issues?.[0]?.message).toMatch(/^would delete \d+ of the \d+ products in Recharge/)
    expect(await writesSince(sim, mark)).toEqual([])
    // The dry run still shows what such a run would do.
    const dry = await syncOverHttp(app, { feed: truncated, dry_run: true })
    expect(dry.state).toBe('succeeded')
    expect(dry.report?.totals.productDeletes).toBeGreaterThan(10)
  })

  it('rejects an invalid feed with every problem, per product, before any upstream call', async () => {
    const mark = (await sim.ledger()).length
    const response = await app.inject({
      method: 'POST',
      url: '/v1/admin/catalog/sync',
      headers: auth,
      payload: {
        feed: {
          version: 1,
          products: [
            {
              external_product_id: 'a1',
              title: 'A',
              variants: [{ external_variant_id: 'v', title: 'V', price: 'free' }],
            },
            { external_product_id: 'a1', title: '', variants: [] },
          ],
        },
      },
    })
    expect(response.statusCode).toBe(400)
    const problem = response.json()
    expect(problem.code).toBe('VALIDATION_FAILED')
    expect(problem.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ index: 0, external_product_id: 'a1', path: 'products[0].variants[0].price' }),
        expect.objectContaining({ index: 1, external_product_id: 'a1', path: 'products[1].title' }),
        expect.objectContaining({ index: 1, external_product_id: 'a1', path: 'products[1].variants' }),
      ]),
    )
    expect((await sim.ledger()).slice(mark)).toEqual([])
  })

  it('takes feeds larger than the 64 KiB JSON default on the sync route (dry run plans without writing)', async () => {
    const large = sampleFeed({ products: 200, prefix: 'large' })
    expect(JSON.stringify({ feed: large }).length).toBeGreaterThan(64 * 1024)
    const mark = (await sim.ledger()).length
    const job = await syncOverHttp(app, { feed: large, dry_run: true })
    expect(job.state).toBe('succeeded')
    expect(job.report?.totals.productCreates).toBe(200)
    expect(job.report?.plan?.[0]).toMatchObject({
      product: 'create',
      plans: { create: expect.arrayContaining(['subscription:week:1:1']) },
    })
    expect(await writesSince(sim, mark)).toEqual([])
  })

  it('counts finished runs and their upstream calls in /metrics (no ids in labels)', async () => {
    const job = await syncOverHttp(app, { feed: sampleFeed({ products: 1, prefix: 'metered' }), delete_missing: false })
    expect(job.state).toBe('succeeded')
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
    expect(metrics).toMatch(/recharge_bridge_catalog_sync_runs_total\{state="succeeded",dry_run="false"\} [1-9]/)
    expect(metrics).toMatch(/recharge_bridge_catalog_sync_upstream_calls_total\{kind="write"\} [1-9]/)
  })

  it('requires the admin key', async () => {
    const response = await app.inject({ method: 'POST', url: '/v1/admin/catalog/sync', payload: { feed } })
    expect(response.statusCode).toBe(401)
  })
})
