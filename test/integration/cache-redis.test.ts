import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CacheDeadlineError } from '../../src/cache/errors.ts'
import type { FetchContext } from '../../src/cache/types.ts'
import redisPlugin, { type RedisClient } from '../../src/infra/redis.ts'
import cachePlugin from '../../src/plugins/cache.ts'
import metricsPlugin from '../../src/plugins/prometheus.ts'
import { connectRedis, deleteKeys, subscriberCount, uniquePrefix } from '../support/redis.ts'

/**
 * Several replicas (each its own app, L1, Redis connections) sharing one Redis, as in production: the cache plugin
 * alone, on the real Redis, with a counting origin.
 */
const prefix = uniquePrefix('cache-redis')
const clients: RedisClient[] = []
const apps: FastifyInstance[] = []

async function replica(): Promise<FastifyInstance> {
  const client = await connectRedis()
  clients.push(client)
  const app = Fastify({ logger: false })
  await app.register(metricsPlugin)
  await app.register(redisPlugin, { client })
  await app.register(cachePlugin, { keyPrefix: prefix })
  await app.ready()
  apps.push(app)
  return app
}

/** Wait until every replica's subscriber listens on the invalidation channel. */
async function allSubscribed(count: number): Promise<void> {
  const channel = `${prefix}:invalidate`
  for (let attempt = 0; attempt < 200; attempt++) {
    if ((await subscriberCount(clients[0]!, channel)) >= count) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error('subscribers did not subscribe')
}

/** Wait until the leader's background L2 write landed (the caller that fetched never waits for it). */
async function inL2(name: string, id: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if ((await clients[0]!.exists(`${prefix}:{${name}:${id}}`)) === 1) return
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error('entry never reached L2')
}

function countingOrigin(delayMs = 50) {
  const calls: FetchContext[] = []
  let failing = false
  return {
    calls,
    fail(value: boolean) {
      failing = value
    },
    async fetch(args: { id: string }, context: FetchContext) {
      calls.push(context)
      await new Promise((resolve) => setTimeout(resolve, delayMs))
      if (failing) throw new Error('upstream 503')
      return { id: args.id, n: calls.length }
    },
  }
}

let replicas: FastifyInstance[] = []

beforeAll(async () => {
  replicas = [await replica(), await replica(), await replica()]
  await allSubscribed(3)
})

afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()))
  const cleaner = clients[0]
  if (cleaner?.isOpen) await deleteKeys(cleaner, `${prefix}:*`)
  await Promise.all(clients.map((client) => (client.isOpen ? client.close() : undefined)))
})

describe('cache across replicas on a real Redis', () => {
  it('3 replicas × 200 concurrent lookups of one cold key make exactly one origin call', async () => {
    const origin = countingOrigin(100)
    const defined = replicas.map((app) =>
      app.cache.define('stampede', { key: (a: { id: string }) => a.id, fetch: origin.fetch, ttlMs: 60_000 }),
    )
    const results = await Promise.all(defined.flatMap((get) => Array.from({ length: 200 }, () => get({ id: 'cold' }))))
    expect(origin.calls).toHaveLength(1)
    expect(results).toHaveLength(600)
    expect(new Set(results.map((r) => r.json))).toEqual(new Set(['{"id":"cold","n":1}']))
  })

  it('a replica with a cold L1 answers from L2 without calling the origin', async () => {
    const origin = countingOrigin()
    const [a, b] = replicas.map((app) =>
      app.cache.define('l2-hit', { key: (x: { id: string }) => x.id, fetch: origin.fetch, ttlMs: 60_000 }),
    )
    expect((await a!({ id: '1' })).state).toBe('MISS')
    await inL2('l2-hit', '1')
    const fromL2 = await b!({ id: '1' })
    expect(fromL2.state).toBe('HIT')
    expect(fromL2.json).toBe('{"id":"1","n":1}')
    expect(origin.calls).toHaveLength(1)
  })

  it('a tag invalidation on one replica reaches the other replicas L1', async () => {
    const origin = countingOrigin(1)
    const [a, b] = replicas.map((app) =>
      app.cache.define('tagged', {
        key: (x: { id: string }) => x.id,
        fetch: origin.fetch,
        ttlMs: 60_000,
        tags: (x) => [`${prefix}-product:${x.id}`],
      }),
    )
    await a!({ id: '1' })
    await inL2('tagged', '1')
    expect((await b!({ id: '1' })).state).toBe('HIT')
    expect((await b!({ id: '1' })).state).toBe('HIT')
    expect(origin.calls).toHaveLength(1)

    await replicas[0]!.cache.invalidateTags([`${prefix}-product:1`])
    // B's L1 would otherwise trust its copy for seconds: only the pub/sub message can make it miss now.
    await expect.poll(async () => (await b!({ id: '1' })).json, { timeout: 1_000 }).toBe('{"id":"1","n":2}')
    expect(origin.calls).toHaveLength(2)
  })

  it('an entry still in Redis after an invalidation was seen (purge in flight) is not put back in L1 as fresh', async () => {
    const origin = countingOrigin(1)
    const get = replicas[0]!.cache.define('purge-race', {
      key: (x: { id: string }) => x.id,
      fetch: origin.fetch,
      ttlMs: 60_000,
      tags: (x) => [`race:${x.id}`],
    })
    expect((await get({ id: '1' })).state).toBe('MISS')
    await inL2('purge-race', '1')
    // The replica learns of the invalidation; Redis still holds the old entry (as while the purge is in flight).
    const core = replicas[0]!.cache as unknown as { onInvalidationMessage(text: string): void }
    core.onInvalidationMessage(JSON.stringify({ from: 'another-replica', tags: ['race:1'], keys: [] }))
    const after = await get({ id: '1' })
    expect(after.state).toBe('MISS')
    expect(after.json).toBe('{"id":"1","n":2}')
  })

  it('invalidating one key on one replica reaches the other replicas L1', async () => {
    const origin = countingOrigin(1)
    const [a, b] = replicas.map((app) =>
      app.cache.define('by-key', { key: (x: { id: string }) => x.id, fetch: origin.fetch, ttlMs: 60_000 }),
    )
    await a!({ id: '1' })
    await inL2('by-key', '1')
    await b!({ id: '1' })
    expect((await b!({ id: '1' })).state).toBe('HIT')

    await a!.invalidate({ id: '1' })
    await expect.poll(async () => (await b!({ id: '1' })).json, { timeout: 1_000 }).toBe('{"id":"1","n":2}')
  })

  it('when the origin fails every replica serves its stale copy, and the entry survives', async () => {
    const origin = countingOrigin(1)
    const defined = replicas.map((app) =>
      app.cache.define('stale-if-error', {
        key: (x: { id: string }) => x.id,
        fetch: origin.fetch,
        ttlMs: 200,
        staleIfErrorMs: 60_000,
      }),
    )
    await defined[0]!({ id: '1' })
    await Promise.all(defined.map((get) => get({ id: '1' })))
    await new Promise((resolve) => setTimeout(resolve, 250))
    origin.fail(true)

    const stale = await Promise.all(defined.flatMap((get) => [get({ id: '1' }), get({ id: '1' })]))
    expect(stale.map((r) => r.state)).toEqual(Array(6).fill('STALE'))
    expect(new Set(stale.map((r) => r.json))).toEqual(new Set(['{"id":"1","n":1}']))
    // One replica asked the origin; the others saw its failure marker instead of repeating the call.
    expect(origin.calls).toHaveLength(2)

    origin.fail(false)
    // Once the failure noted for the other replicas has lapsed, a lookup refetches and replaces the entry.
    await expect
      .poll(async () => (await defined[1]!({ id: '1' })).state, { timeout: 10_000, interval: 100 })
      .toBe('MISS')
  })

  it('stale-while-revalidate refreshes once across replicas, in the background lane', async () => {
    const origin = countingOrigin(50)
    const defined = replicas.map((app) =>
      app.cache.define('swr', {
        key: (x: { id: string }) => x.id,
        fetch: origin.fetch,
        ttlMs: 200,
        staleWhileRevalidateMs: 60_000,
      }),
    )
    await Promise.all(defined.map((get) => get({ id: '1' })))
    expect(origin.calls).toHaveLength(1)
    await new Promise((resolve) => setTimeout(resolve, 250))

    const served = await Promise.all(defined.flatMap((get) => Array.from({ length: 20 }, () => get({ id: '1' }))))
    expect(new Set(served.map((r) => r.state))).toEqual(new Set(['STALE']))
    await expect.poll(() => origin.calls.length).toBe(2)
    expect(origin.calls[1]?.lane).toBe('background')
    await expect.poll(async () => (await defined[2]!({ id: '1' })).json).toBe('{"id":"1","n":2}')
    expect(origin.calls).toHaveLength(2)
  })

  it('a NotFound is fetched once across replicas and then answered from the negative cache', async () => {
    const calls: string[] = []
    const defined = replicas.map((app) =>
      app.cache.define('negative', {
        key: (x: { id: string }) => x.id,
        fetch: async (x: { id: string }): Promise<{ id: string }> => {
          calls.push(x.id)
          await new Promise((resolve) => setTimeout(resolve, 50))
          throw Object.assign(new Error('no such record'), { status: 404 })
        },
        ttlMs: 60_000,
        negativeTtlMs: 30_000,
      }),
    )
    const outcomes = await Promise.allSettled(
      defined.flatMap((get) => Array.from({ length: 50 }, () => get({ id: 'missing' }))),
    )
    expect(outcomes.every((o) => o.status === 'rejected' && (o.reason as { status?: number }).status === 404)).toBe(
      true,
    )
    expect(calls).toHaveLength(1)
    for (const get of defined) {
      await expect(get({ id: 'missing' })).rejects.toMatchObject({ status: 404, name: 'CachedNotFoundError' })
    }
    expect(calls).toHaveLength(1)
  })

  it('while another replica holds the lease, a replica waits up to its deadline, then serves stale', async () => {
    let release: () => void = () => {}
    const calls: number[] = []
    const defined = replicas.map((app) =>
      app.cache.define('slow-holder', {
        key: (x: { id: string }) => x.id,
        fetch: async (x: { id: string }) => {
          calls.push(calls.length + 1)
          if (calls.length > 1) await new Promise<void>((resolve) => (release = resolve))
          return { id: x.id, n: calls.length }
        },
        ttlMs: 200,
        staleIfErrorMs: 60_000,
      }),
    )
    await defined[0]!({ id: '1' })
    await inL2('slow-holder', '1')
    const cold = replicas[2]!.cache.define('slow-holder-cold', {
      key: (x: { id: string }) => x.id,
      fetch: () => new Promise<never>(() => {}),
      ttlMs: 1_000,
    })
    await new Promise((resolve) => setTimeout(resolve, 250))

    // Replica 0 takes the lease and hangs upstream; replica 1 (its L1 never had the key) waits, then serves stale.
    const holder = defined[0]!({ id: '1' }, { deadlineMs: 5_000 })
    await new Promise((resolve) => setTimeout(resolve, 50))
    const waiter = await defined[1]!({ id: '1' }, { deadlineMs: 200 })
    expect(waiter.state).toBe('STALE')
    expect(waiter.json).toBe('{"id":"1","n":1}')
    expect(calls).toHaveLength(2)

    release()
    expect((await holder).json).toBe('{"id":"1","n":2}')
    await expect(cold({ id: 'x' }, { deadlineMs: 100 })).rejects.toBeInstanceOf(CacheDeadlineError)
  })
})
