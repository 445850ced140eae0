import type { FastifyInstance } from 'fastify'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { sendCached } from '../../src/cache/reply.ts'
import type { CachePolicy } from '../../src/cache/types.ts'
import { createRedisClient, type RedisClient } from '../../src/infra/redis.ts'
import { DisposableRedis } from '../../tools/redis-server.ts'
import { testConfig } from '../support/config.ts'
import { connectRedis, deleteKeys, redisUrl, uniquePrefix } from '../support/redis.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * The cache inside the real app: replicas built with buildApp share one Redis, and their cached reads go through
 * app.recharge (queue, dispatcher, token interceptor) to the simulator over HTTP; the simulator's ledger counts what
 * reached "Recharge".
 */
const unique = uniquePrefix('cache-sim').replaceAll(':', '-')
let sim: TestSimulator

/** Lookups each replica's test route has started, by variant: the stampede test opens its gate once all began. */
const started = new Map<string, number>()
/** Long enough for any lookup to wait out a gated fill on a loaded machine (the cache's default is 3 s). */
const LOOKUP_DEADLINE_MS = 30_000

/**
 * A replica with test-only routes serving a cached `/store` read: `GET /test-cache/store/:variant` with `policy`, and
 * `GET /test-cache/expiring/:variant`, whose entries are fresh for 1 ms and then served stale if Recharge fails.
 */
async function replica(redisUrlValue: string | undefined, policy: Omit<CachePolicy<string, unknown>, 'tags'>) {
  const app = await buildApp(
    testConfig({ REDIS_URL: redisUrlValue, RECHARGE_API_URL: sim.url, RECHARGE_API_TOKEN: sim.apiToken }),
    { backgroundWorkers: false },
  )
  const define = (name: string, definitionPolicy: Omit<CachePolicy<string, unknown>, 'tags'>) =>
    app.cache.define(`${unique}.${name}`, {
      ...definitionPolicy,
      key: (variant: string) => variant,
      fetch: (_variant, context) =>
        app.recharge.store.get({ lane: context.lane, deadlineMs: context.deadlineMs, signal: context.signal }),
      tags: (variant) => [`${unique}-${name}:${variant}`],
    })
  const store = define('store', policy)
  const expiring = define('expiring', { ttlMs: 1, staleIfErrorMs: 60_000 })
  app.get<{ Params: { variant: string } }>('/test-cache/store/:variant', async (request, reply) => {
    const { variant } = request.params
    started.set(variant, (started.get(variant) ?? 0) + 1)
    return sendCached(reply, await store(variant, { deadlineMs: LOOKUP_DEADLINE_MS }))
  })
  app.get<{ Params: { variant: string } }>('/test-cache/expiring/:variant', async (request, reply) =>
    sendCached(reply, await expiring(request.params.variant)),
  )
  await app.ready()
  return app
}

async function storeCalls(): Promise<number> {
  return (await sim.ledger({ method: 'GET', path: '/store' })).length
}

// Each test has its own simulator and replicas: the tests count the /store reads that reach Recharge, and a
// replica of an earlier test may still be reading it (a call queued behind a hung Redis, a retry after a 503 that
// outlived its caller's deadline), nor can a fault rule of one test reach another.
beforeEach(async () => {
  started.clear()
  sim = await startTestSimulator()
})

afterEach(async () => {
  await sim.close()
})

afterAll(async () => {
  const client = await connectRedis()
  await deleteKeys(client, `*${unique}*`)
  await client.close()
})

describe('the cache with the real app, Redis and the simulator', () => {
  const apps: FastifyInstance[] = []

  beforeEach(async () => {
    for (let i = 0; i < 3; i++) {
      // Entries stay fresh far longer than any test: none can expire while a stampede is still arriving.
      apps.push(await replica(redisUrl(), { ttlMs: 60_000, staleIfErrorMs: 60_000 }))
    }
  })

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()))
  })

  it('3 replicas × 200 concurrent requests for one cold key reach Recharge exactly once', async () => {
    const before = await storeCalls()
    // Recharge holds the first /store read until all 600 lookups have begun: every one overlaps the fill.
    await sim.setFaults([{ match: { method: 'GET', path: '/store' }, gate: 'stampede', count: 1 }])
    const answers = Promise.all(
      apps.flatMap((app) => Array.from({ length: 200 }, () => app.inject('/test-cache/store/stampede'))),
    )
    await expect.poll(() => started.get('stampede'), { timeout: 20_000 }).toBe(600)
    await expect.poll(() => sim.heldAt('stampede'), { timeout: 20_000 }).toBe(1)
    await sim.openGate('stampede')
    const responses = await answers
    expect(responses.map((r) => r.statusCode)).toEqual(Array(600).fill(200))
    expect(new Set(responses.map((r) => r.body)).size).toBe(1)
    expect(JSON.parse(responses[0]!.body)).toHaveProperty('id')
    expect(await storeCalls()).toBe(before + 1)
  })

  /** Stores a `variant` entry (a miss), then makes Recharge fail every /store read; the entry is stale by then. */
  async function staleWhileFailing(variant: string) {
    const fresh = await apps[0]!.inject(`/test-cache/expiring/${variant}`)
    expect([fresh.statusCode, fresh.headers['x-cache']]).toEqual([200, 'MISS'])
    await sim.setFaults([{ match: { method: 'GET', path: '/store' }, status: 503 }])
    return fresh
  }

  it('serves the stale entry with X-Cache: STALE while Recharge fails, and a fresh one once it answers again', async () => {
    const fresh = await staleWhileFailing('failing')
    const before = await storeCalls()

    for (const app of apps) {
      const stale = await app.inject('/test-cache/expiring/failing')
      expect(stale.statusCode).toBe(200)
      expect(stale.headers['x-cache']).toBe('STALE')
      expect(stale.body).toBe(fresh.body)
    }
    expect(await storeCalls()).toBeGreaterThan(before)

    await sim.clearFaults()
    // The entry survived the failures: once Recharge answers again (and the failure noted for the other replicas
    // has lapsed), a refetch replaces it.
    await expect
      .poll(async () => (await apps[1]!.inject('/test-cache/expiring/failing')).headers['x-cache'], {
        timeout: 15_000,
        interval: 100,
      })
      .toBe('MISS')
  })

  it('reports misses and stale serves by definition name, never by key or tag', async () => {
    await staleWhileFailing('metered')
    expect((await apps[0]!.inject('/test-cache/expiring/metered')).headers['x-cache']).toBe('STALE')
    const text = (await apps[0]!.inject('/metrics')).body
    expect(text).toMatch(
      new RegExp(`^recharge_bridge_cache_lookups_total\\{cache="${unique}\\.expiring",outcome="miss"\\} [1-9]`, 'm'),
    )
    expect(text).toMatch(
      new RegExp(
        `^recharge_bridge_cache_lookups_total\\{cache="${unique}\\.expiring",outcome="stale_error"\\} [1-9]`,
        'm',
      ),
    )
    expect(text).toMatch(/^recharge_bridge_cache_redis_breaker_state 0$/m)
    const cacheLines = text.split('\n').filter((line) => line.includes('cache'))
    for (const secret of ['metered', `${unique}-expiring`, sim.apiToken]) {
      expect(cacheLines.filter((line) => line.includes(secret))).toEqual([])
    }
  })

  it('an invalidation by tag on one replica reaches the other replica L1', async () => {
    const first = await apps[1]!.inject('/test-cache/store/tagged')
    expect(first.headers['x-cache']).toBe('MISS')
    // Replica 2 now holds the entry in its L1 (from L2, or from replica 1's fill it waited for).
    await apps[2]!.inject('/test-cache/store/tagged')
    expect((await apps[2]!.inject('/test-cache/store/tagged')).headers['x-cache']).toBe('HIT')
    const before = await storeCalls()

    await apps[0]!.cache.invalidateTags([`${unique}-store:tagged`])
    await expect
      .poll(async () => (await apps[2]!.inject('/test-cache/store/tagged')).headers['x-cache'], { timeout: 1_000 })
      .toBe('MISS')
    expect(await storeCalls()).toBe(before + 1)
  })
})

describe('the cache without Redis (one replica, in-process)', () => {
  it('collapses concurrent misses, serves hits from memory and invalidates by tag', async () => {
    const app = await replica(undefined, { ttlMs: 60_000 })
    try {
      expect(app.redis).toBeNull()
      const before = await storeCalls()
      const responses = await Promise.all(Array.from({ length: 100 }, () => app.inject('/test-cache/store/local')))
      expect(responses.map((r) => r.statusCode)).toEqual(Array(100).fill(200))
      expect(await storeCalls()).toBe(before + 1)
      expect((await app.inject('/test-cache/store/local')).headers['x-cache']).toBe('HIT')

      await app.cache.invalidateTags([`${unique}-store:local`])
      expect((await app.inject('/test-cache/store/local')).headers['x-cache']).toBe('MISS')
      expect(await storeCalls()).toBe(before + 2)
    } finally {
      await app.close()
    }
  })
})

describe('the cache while its Redis is stopped and restarted', () => {
  let redis: DisposableRedis
  const apps: FastifyInstance[] = []
  let observer: RedisClient | undefined

  beforeEach(async () => {
    redis = await DisposableRedis.start()
    apps.push(await replica(redis.url, { ttlMs: 60_000, staleIfErrorMs: 60_000 }))
    apps.push(await replica(redis.url, { ttlMs: 60_000, staleIfErrorMs: 60_000 }))
  })

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()))
    observer?.destroy()
    observer = undefined
    await redis.stop()
  })

  it('keeps answering without Redis and uses it again once it is back', async () => {
    const [a, b] = apps as [FastifyInstance, FastifyInstance]
    expect((await a.inject('/test-cache/store/warm')).statusCode).toBe(200)

    await redis.stop()
    // Cached (L1) and cold keys both answer: nothing waits on the dead Redis.
    const during = await Promise.all([
      ...Array.from({ length: 20 }, () => a.inject('/test-cache/store/warm')),
      ...Array.from({ length: 20 }, () => b.inject('/test-cache/store/cold-during-outage')),
    ])
    expect(during.map((r) => r.statusCode)).toEqual(Array(40).fill(200))
    expect(new Set(during.slice(0, 20).map((r) => r.headers['x-cache']))).toEqual(new Set(['HIT']))
    const outage = (await a.inject('/metrics')).body + (await b.inject('/metrics')).body
    expect(outage).toMatch(/^recharge_bridge_cache_redis_breaker_state 1$/m)
    expect(outage).toMatch(/^recharge_bridge_cache_redis_errors_total\{operation="get"\} [1-9]/m)
    // An invalidation during the outage does not fail its caller: L1 drops now, the Redis part is owed.
    await a.cache.invalidateTags([`${unique}-store:warm`])
    expect((await a.inject('/test-cache/store/warm')).headers['x-cache']).toBe('MISS')

    await redis.restart()
    const client = createRedisClient(redis.url)
    observer = client
    client.on('error', () => {})
    await client.connect()
    // Recovery: a value fetched by A lands in the (new, empty) Redis and B answers it from L2.
    await expect
      .poll(
        async () => {
          await a.inject('/test-cache/store/after-restart')
          return client.exists(`rb:c:v1:{${unique}.store:after-restart}`)
        },
        { timeout: 10_000, interval: 200 },
      )
      .toBe(1)
    const fromL2 = await b.inject('/test-cache/store/after-restart')
    expect(fromL2.statusCode).toBe(200)
    expect(fromL2.headers['x-cache']).toBe('HIT')
    expect((await b.inject('/test-cache/store/after-restart')).headers['x-cache']).toBe('HIT')

    expect((await b.inject('/metrics')).body).toMatch(/^recharge_bridge_cache_redis_breaker_state 0$/m)

    // The subscribers re-subscribed: an invalidation on A still reaches B's L1.
    await a.cache.invalidateTags([`${unique}-store:after-restart`])
    await expect
      .poll(async () => (await b.inject('/test-cache/store/after-restart')).headers['x-cache'], { timeout: 1_000 })
      .toBe('MISS')
  })

  it('keeps answering while Redis hangs (connected, never replying), then recovers', async () => {
    const [a, b] = apps as [FastifyInstance, FastifyInstance]
    expect((await a.inject('/test-cache/store/hung-warm')).statusCode).toBe(200)
    redis.pause()
    try {
      // Every Redis call gives up at its command timeout, then the breaker skips Redis entirely.
      const during = await Promise.all([
        ...Array.from({ length: 20 }, () => a.inject('/test-cache/store/hung-warm')),
        ...Array.from({ length: 20 }, () => b.inject('/test-cache/store/hung-cold')),
      ])
      // Cached keys answer from L1. Cold keys answer too: 200, or — when the Recharge queue itself waits on the hung
      // Redis — a 504 problem at the cache's deadline; never a hang.
      expect(during.slice(0, 20).map((r) => `${r.statusCode} ${r.headers['x-cache']}`)).toEqual(
        Array(20).fill('200 HIT'),
      )
      for (const response of during.slice(20)) {
        if (response.statusCode !== 200)
          expect(response.json()).toMatchObject({ status: 504, code: 'UPSTREAM_TIMEOUT' })
      }
      expect((await b.inject('/metrics')).body).toMatch(/^recharge_bridge_cache_redis_breaker_state 1$/m)
    } finally {
      redis.resume()
    }
    let probe = 0
    await expect
      .poll(
        async () => {
          // A lookup that needs Redis lets the breaker probe it.
          await b.inject(`/test-cache/store/after-hang-${++probe}`)
          return (await b.inject('/metrics')).body.match(/^recharge_bridge_cache_redis_breaker_state (\d)$/m)?.[1]
        },
        {
          timeout: 10_000,
          interval: 200,
        },
      )
      .toBe('0')
  })
})
