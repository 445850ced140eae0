import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { RedisClient } from '../../src/plugins/redis.ts'
import { testConfig } from '../support/config.ts'
import { connectRedis, redisUrl } from '../support/redis.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * Fresh L1 hits of GET /v1/catalog/products/:id are answered before Fastify routes them (src/fast-reads.ts). Over
 * real HTTP, against the simulator and a real Redis: the fast answer is the route's answer, header by header, for
 * every kind of request it takes; what it must not take reaches the route; and its metrics are counted.
 *
 * Two apps share the simulator and Redis: `fast` as shipped, `routed` with its fast reads closed (every request goes
 * through Fastify). An onRequest hook counts what reached Fastify in each.
 */
const namespace = `catalog-fast-read-${randomBytes(4).toString('hex')}`

let sim: TestSimulator
let redis: RedisClient
const apps: { app: FastifyInstance; url: string; routed: () => number }[] = []
let productId: string

async function start(fastReadsOpen: boolean, overrides: Record<string, string> = {}) {
  // Log lines, one JSON object each (the info-level cases compare them).
  const logs: string[] = []
  const logStream = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(...String(chunk).split('\n').filter(Boolean))
      callback()
    },
  })
  const app = await buildApp(
    testConfig({
      RECHARGE_API_URL: sim.url,
      RECHARGE_API_TOKEN: sim.apiToken,
      RECHARGE_BUCKET_SIZE: '1000',
      RECHARGE_LEAK_RATE: '1000',
      REDIS_URL: redisUrl(),
      ...overrides,
    }),
    { redis, backgroundWorkers: false, catalog: { namespace }, logStream },
  )
  let routed = 0
  app.addHook('onRequest', (_request, _reply, done) => {
    routed++
    done()
  })
  await app.ready()
  if (!fastReadsOpen) app.fastReads.close()
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  const started = { app, url, routed: () => routed, logs }
  apps.push(started)
  return started
}

async function get(url: string, headers: Record<string, string> = {}, method = 'GET') {
  const response = await fetch(url, { method, headers })
  return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() }
}

/** Headers whose values are per response by design. */
function comparable(headers: Record<string, string>, mintedRequestId: boolean) {
  const { date: _date, age, 'x-request-id': requestId, ...rest } = headers
  expect(age).toMatch(/^\d+$/)
  return { ...rest, ...(mintedRequestId ? { 'x-request-id': requestId?.length } : { 'x-request-id': requestId }) }
}

async function metricValue(url: string, line: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const found = text.split('\n').find((candidate) => candidate.startsWith(line))
  return found === undefined ? 0 : Number(found.split(' ').at(-1))
}

let fast: Awaited<ReturnType<typeof start>>
let routed: Awaited<ReturnType<typeof start>>

beforeAll(async () => {
  sim = await startTestSimulator({ apiTokens: [`sk_test_${namespace}`], bucketSize: 1000, leakRate: 1000 })
  redis = await connectRedis()
  const { body } = await sim.api('GET', '/products?limit=1')
  productId = body.products[0].external_product_id
  fast = await start(true)
  routed = await start(false)
  // Fill the shared entry, then each app's L1.
  for (const { url } of [fast, routed]) {
    expect((await get(`${url}/v1/catalog/products/${productId}`)).status).toBe(200)
    expect((await get(`${url}/v1/catalog/products/${productId}`)).headers['x-cache']).toBe('HIT')
  }
})

afterAll(async () => {
  for (const { app } of apps) await app.close()
  const keys = await redis.keys(`*${namespace}*`)
  if (keys.length > 0) await redis.del(keys)
  await redis.quit()
  await sim.close()
})

describe('catalog product fast read', () => {
  const variants: { name: string; headers: Record<string, string>; minted: boolean }[] = [
    { name: 'no Origin', headers: {}, minted: true },
    { name: 'an allowed storefront Origin', headers: { origin: 'https://shop.example' }, minted: true },
    { name: 'a foreign Origin', headers: { origin: 'https://evil.example' }, minted: true },
    { name: 'a well-formed X-Request-Id', headers: { 'x-request-id': 'trace-0123456789' }, minted: false },
    { name: 'a malformed X-Request-Id', headers: { 'x-request-id': 'bad id!' }, minted: true },
  ]

  for (const variant of variants) {
    it(`answers a fresh hit with the route's exact response: ${variant.name}`, async () => {
      const before = { fast: fast.routed(), routed: routed.routed() }
      const path = `/v1/catalog/products/${productId}`
      const viaFastRead = await get(`${fast.url}${path}`, variant.headers)
      const viaRoute = await get(`${routed.url}${path}`, variant.headers)

      expect(fast.routed() - before.fast).toBe(0)
      expect(routed.routed() - before.routed).toBe(1)
      expect(viaFastRead.status).toBe(200)
      expect(viaFastRead.body).toBe(viaRoute.body)
      expect(comparable(viaFastRead.headers, variant.minted)).toEqual(comparable(viaRoute.headers, variant.minted))
      expect(viaFastRead.headers['x-cache']).toBe('HIT')
    })
  }

  it('counts its answers in the request-duration histogram and as L1 hits', async () => {
    const durationLine = `recharge_bridge_http_request_duration_seconds_count{method="GET",route="/v1/catalog/products/:externalProductId",status_code="200"}`
    const hitLine = `recharge_bridge_cache_lookups_total{cache="catalog.product",outcome="hit_l1"}`
    const before = { duration: await metricValue(fast.url, durationLine), hits: await metricValue(fast.url, hitLine) }
    const routedBefore = fast.routed()
    for (let i = 0; i < 5; i++) await get(`${fast.url}/v1/catalog/products/${productId}`)
    expect(fast.routed() - routedBefore).toBe(0)
    expect((await metricValue(fast.url, durationLine)) - before.duration).toBe(5)
    expect((await metricValue(fast.url, hitLine)) - before.hits).toBe(5)
  })

  it('leaves to the route: conditional requests, HEAD, query strings, encoded ids, unknown products', async () => {
    const base = `${fast.url}/v1/catalog/products/${productId}`
    const { headers } = await get(base)
    const cases: { url: string; headers?: Record<string, string>; method?: string; status: number }[] = [
      { url: base, headers: { 'if-none-match': headers.etag ?? '' }, status: 304 },
      { url: base, method: 'HEAD', status: 200 },
      { url: `${base}?utm_source=mail`, status: 200 },
      { url: `${base}/`, status: 200 },
      { url: `${fast.url}/v1/catalog/products/${encodeURIComponent(`${productId} `)}`, status: 404 },
      { url: `${fast.url}/v1/catalog/products/no-such-product`, status: 404 },
    ]
    for (const request of cases) {
      const before = fast.routed()
      const response = await get(request.url, request.headers ?? {}, request.method ?? 'GET')
      expect(response.status, request.url).toBe(request.status)
      expect(fast.routed() - before, request.url).toBe(1)
    }
  })

  it("writes the route's two request log lines at info level", async () => {
    const path = `/v1/catalog/products/${productId}`
    const headers = { 'x-request-id': 'trace-logs-0123456789' }
    for (const started of [fast, routed]) {
      started.app.log.level = 'info'
      started.logs.length = 0
    }
    try {
      const before = fast.routed()
      await get(`${fast.url}${path}`, headers)
      await get(`${routed.url}${path}`, headers)
      expect(fast.routed() - before).toBe(0)
    } finally {
      for (const started of [fast, routed]) started.app.log.level = 'silent'
    }
    const lines = (logs: string[]): Record<string, unknown>[] =>
      logs.map((line) => {
        const { time: _time, responseTime, ...rest } = JSON.parse(line) as Record<string, unknown>
        return { ...rest, responseTime: typeof responseTime }
      })
    expect(lines(fast.logs).map((line) => line.msg)).toEqual(['incoming request', 'request completed'])
    expect(lines(fast.logs)).toEqual(lines(routed.logs))
  })

  it('leaves requests to the route while request logs are on behind a trusted proxy (the client address is its to read)', async () => {
    const proxied = await start(true, { TRUST_PROXY: 'true', LOG_LEVEL: 'info' })
    const url = `${proxied.url}/v1/catalog/products/${productId}`
    await get(url) // fills this app's L1
    const before = proxied.routed()
    const again = await get(url, { 'x-forwarded-for': '203.0.113.7' })
    expect(again.headers['x-cache']).toBe('HIT')
    expect(proxied.routed() - before).toBe(1)
    const completed = proxied.logs.map((line) => JSON.parse(line)).filter((line) => line.msg === 'incoming request')
    expect(completed.at(-1)?.req.ip).toBe('203.0.113.7')
  })

  it('after a tag invalidation, answers from the route (a fresh fetch), then fast again', async () => {
    const url = `${fast.url}/v1/catalog/products/${productId}`
    await fast.app.cache.invalidateTags([`product:${productId}`])
    const before = fast.routed()
    const refetched = await get(url)
    expect(refetched.headers['x-cache']).toBe('MISS')
    expect(fast.routed() - before).toBe(1)
    const again = await get(url)
    expect(again.headers['x-cache']).toBe('HIT')
    expect(fast.routed() - before).toBe(1)
  })
})
