import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { CatalogFeed } from '../../src/catalog/feed.ts'
import type { SyncJobStatus } from '../../src/catalog/sync/types.ts'
import type { RedisClient } from '../../src/infra/redis.ts'
import { testConfig } from '../support/config.ts'
import { connectRedis, deleteKeys, redisUrl } from '../support/redis.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * The storefront catalog over HTTP after a sync, against the simulator and a real Redis: CDN-shaped products with
 * exact discounted prices in the store currency (USD and zero-decimal JPY), ETag/304, Cache-Control, X-Cache, CORS,
 * cursor pages, cached 404s, and a sync invalidating the cache tags of what it wrote.
 */
const namespace = `catalog-storefront-${randomBytes(4).toString('hex')}`

let redis: RedisClient
const sims: TestSimulator[] = []
const apps: FastifyInstance[] = []

async function setup(currency: string): Promise<{ sim: TestSimulator; app: FastifyInstance }> {
  const sim = await startTestSimulator({
    apiTokens: [`sk_test_${namespace}_${currency}`],
    currency,
    bucketSize: 1000,
    leakRate: 1000,
  })
  const app = await buildApp(
    testConfig({
      RECHARGE_API_URL: sim.url,
      RECHARGE_API_TOKEN: sim.apiToken,
      RECHARGE_BUCKET_SIZE: '1000',
      RECHARGE_LEAK_RATE: '1000',
      REDIS_URL: redisUrl(),
    }),
    { redis, backgroundWorkers: false, catalog: { namespace } },
  )
  await app.ready()
  sims.push(sim)
  apps.push(app)
  return { sim, app }
}

async function sync(app: FastifyInstance, feed: CatalogFeed): Promise<SyncJobStatus> {
  const started = await app.catalogSync.start({ feed, deleteMissing: false, source: 'api' })
  if (!started.ok) throw new Error('lock held')
  const job = await started.done
  expect(job.state, JSON.stringify(job.report?.errors ?? job.error)).toBe('succeeded')
  return job
}

function product(id: string, price: string, discount: string, extra: Partial<CatalogFeed['products'][0]> = {}) {
  return {
    external_product_id: id,
    title: `Product ${id}`,
    description: null,
    image: `https://images.example/${id}.jpg`,
    vendor: null,
    options: ['Size'],
    variants: [
      { external_variant_id: `${id}-s`, title: 'Small', options: ['Small'], price, compare_at_price: null, sku: null },
    ],
    offers: [
      {
        type: 'subscription' as const,
        interval_unit: 'month' as const,
        intervals: [1, 2],
        discount: { type: 'percentage' as const, amount: discount },
      },
    ],
    ...extra,
  }
}

beforeAll(async () => {
  redis = await connectRedis()
})

afterAll(async () => {
  for (const app of apps) await app.close()
  for (const sim of sims) await sim.close()
  await deleteKeys(redis, `*${namespace}*`)
  await redis?.quit()
})

describe('storefront catalog (USD)', () => {
  let sim: TestSimulator
  let app: FastifyInstance

  beforeAll(async () => {
    ;({ sim, app } = await setup('USD'))
    await sync(app, {
      version: 1,
      currency: 'USD',
      products: [product('sf-1', '39.95', '20'), product('sf-2', '1.45', '10'), product('sf-3', '10.00', '15')],
    })
  })

  it('serves the CDN product shape with exact discounted prices', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/catalog/products/sf-1' })
    expect(response.statusCode).toBe(200)
    const { product: body, meta } = response.json()
    expect(meta).toEqual({ version: '2021-08' })
    expect(
      body.plans.map((p: { order_interval_frequency: number; interval_unit: string }) => [
        p.order_interval_frequency,
        p.interval_unit,
      ]),
    ).toEqual([
      [1, 'month'],
      [2, 'month'],
    ])
    expect(body.variants[0].prices[0]).toMatchObject({ currency: 'USD', unit_price: '39.95', compare_at_price: null })
    expect(
      body.variants[0].prices[0].plans.map((p: { discounted_price: string; discount_value: string }) => [
        p.discounted_price,
        p.discount_value,
      ]),
    ).toEqual([
      ['31.96', '7.99'],
      ['31.96', '7.99'],
    ])
    // 10 % of 1.45 = 0.145 → 0.15 off (half-up), where float arithmetic would give 0.14.
    const cheap = (await app.inject({ method: 'GET', url: '/v1/catalog/products/sf-2' })).json().product
    expect(cheap.variants[0].prices[0].plans[0]).toMatchObject({ discounted_price: '1.30', discount_value: '0.15' })
  })

  it('answers with a strong ETag, Cache-Control, X-Cache, and 304 to If-None-Match', async () => {
    const first = await app.inject({
      method: 'GET',
      url: '/v1/catalog/products/sf-3',
      headers: { origin: 'https://shop.example' },
    })
    expect(first.headers['cache-control']).toBe('public, max-age=60, stale-while-revalidate=300')
    expect(first.headers['access-control-allow-origin']).toBe('https://shop.example')
    const etag = first.headers.etag as string
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{43}"$/)
    const second = await app.inject({ method: 'GET', url: '/v1/catalog/products/sf-3' })
    expect(second.headers['x-cache']).toBe('HIT')
    expect(second.headers.etag).toBe(etag)
    expect(second.body).toBe(first.body)
    const revalidated = await app.inject({
      method: 'GET',
      url: '/v1/catalog/products/sf-3',
      headers: { 'if-none-match': etag },
    })
    expect(revalidated.statusCode).toBe(304)
    expect(revalidated.body).toBe('')
    expect(revalidated.headers.etag).toBe(etag)
    const other = await app.inject({
      method: 'GET',
      url: '/v1/catalog/products/sf-3',
      headers: { 'if-none-match': '"other"' },
    })
    expect(other.statusCode).toBe(200)
  })

  it('sends an L1 hit without serialising or parsing the product again (ETag precomputed)', async () => {
    await app.inject({ method: 'GET', url: '/v1/catalog/products/sf-2' })
    await app.inject({ method: 'GET', url: '/v1/catalog/products/sf-2' })
    const stringify = vi.spyOn(JSON, 'stringify')
    const parse = vi.spyOn(JSON, 'parse')
    try {
      const hit = await app.inject({ method: 'GET', url: '/v1/catalog/products/sf-2' })
      expect(hit.headers['x-cache']).toBe('HIT')
      const touchedProduct = (value: unknown) => String(value).includes('sf-2-s')
      expect(
        stringify.mock.calls.filter(([value]) => typeof value === 'object' && value !== null && 'product' in value),
      ).toEqual([])
      expect(parse.mock.calls.filter(([text]) => touchedProduct(text))).toEqual([])
    } finally {
      stringify.mockRestore()
      parse.mockRestore()
    }
  })

  it('reflects a re-sync at once: the sync invalidates the cache tags of what it wrote', async () => {
    // Its own product: the other tests keep reading the prices the file's sync wrote, in any order.
    await sync(app, { version: 1, products: [product('sf-resync', '39.95', '20')] })
    const before = (await app.inject({ method: 'GET', url: '/v1/catalog/products/sf-resync' })).json().product
    expect(before.variants[0].prices[0].unit_price).toBe('39.95')
    await sync(app, { version: 1, products: [product('sf-resync', '49.95', '20')] })
    const after = await app.inject({ method: 'GET', url: '/v1/catalog/products/sf-resync' })
    expect(after.headers['x-cache']).toBe('MISS')
    expect(after.json().product.variants[0].prices[0]).toMatchObject({
      unit_price: '49.95',
      plans: [
        { discounted_price: '39.96', discount_value: '9.99' },
        { discounted_price: '39.96', discount_value: '9.99' },
      ],
    })
  })

  it('answers 404 for an unknown product and caches the miss', async () => {
    const first = await app.inject({ method: 'GET', url: '/v1/catalog/products/no-such-product' })
    expect(first.statusCode).toBe(404)
    expect(first.json().code).toBe('NOT_FOUND')
    const mark = (await sim.ledger()).length
    expect((await app.inject({ method: 'GET', url: '/v1/catalog/products/no-such-product' })).statusCode).toBe(404)
    expect((await sim.ledger()).slice(mark)).toEqual([])
  })

  it('pages through products with opaque cursors', async () => {
    const seen: string[] = []
    let url = '/v1/catalog/products?limit=2'
    for (let pages = 0; pages < 20; pages += 1) {
      const response = await app.inject({ method: 'GET', url })
      expect(response.statusCode).toBe(200)
      const page = response.json()
      expect(page.products.length).toBeLessThanOrEqual(2)
      seen.push(...page.products.map((p: { external_product_id: string }) => p.external_product_id))
      if (!page.next_cursor) break
      url = `/v1/catalog/products?limit=2&cursor=${encodeURIComponent(page.next_cursor)}`
    }
    const all = (await sim.state()).products.map((p) => p.external_product_id)
    expect(seen.sort()).toEqual(all.sort())
    const listed = (await app.inject({ method: 'GET', url: '/v1/catalog/products?limit=100' })).json()
    const synced = listed.products.find((p: { external_product_id: string }) => p.external_product_id === 'sf-2')
    expect(synced.variants[0].prices[0].plans[0].discounted_price).toBe('1.30')
  })

  it('rejects a forged cursor and an oversized limit with 400', async () => {
    expect((await app.inject({ method: 'GET', url: '/v1/catalog/products?cursor=not-ours' })).statusCode).toBe(400)
    expect((await app.inject({ method: 'GET', url: '/v1/catalog/products?limit=101' })).statusCode).toBe(400)
  })

  it('serves store and widget settings', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/catalog/settings' })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toMatchObject({
      currency: 'USD',
      currency_decimals: 2,
      widget: { first_option: 'onetime' },
    })
    expect(response.headers.etag).toBeDefined()
  })
})

describe('storefront catalog (JPY, zero-decimal)', () => {
  it('prices in whole yen, rounding half-up', async () => {
    const { app } = await setup('JPY')
    await sync(app, {
      version: 1,
      currency: 'JPY',
      products: [product('jp-1', '1255', '10'), product('jp-2', '3200', '15')],
    })
    const one = (await app.inject({ method: 'GET', url: '/v1/catalog/products/jp-1' })).json().product
    expect(one.variants[0].prices[0]).toMatchObject({
      currency: 'JPY',
      unit_price: '1255',
      plans: [
        { discounted_price: '1129', discount_value: '126' },
        { discounted_price: '1129', discount_value: '126' },
      ],
    })
    const two = (await app.inject({ method: 'GET', url: '/v1/catalog/products/jp-2' })).json().product
    expect(two.variants[0].prices[0].plans[0]).toMatchObject({ discounted_price: '2720', discount_value: '480' })
    expect((await app.inject({ method: 'GET', url: '/v1/catalog/settings' })).json()).toMatchObject({
      currency: 'JPY',
      currency_decimals: 0,
    })
    expect(await app.catalog.getProduct('jp-2')).toMatchObject({ external_product_id: 'jp-2' })
  })

  it('rejects a feed with fractional yen, naming the product and field', async () => {
    const { app } = apps.length > 1 ? { app: apps[1] as FastifyInstance } : await setup('JPY')
    const started = await app.catalogSync.start({
      feed: { version: 1, products: [product('jp-3', '12.50', '10')] },
      source: 'api',
      deleteMissing: false,
    })
    if (!started.ok) throw new Error('lock held')
    const job = await started.done
    expect(job.state).toBe('invalid')
    expect(job.issues).toEqual([
      expect.objectContaining({ external_product_id: 'jp-3', path: 'products[0].variants[0].price' }),
    ])
  })
})
