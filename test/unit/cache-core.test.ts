import { describe, expect, it } from 'vitest'
import { TwoTierCache } from '../../src/cache/cache.ts'
import { CacheDeadlineError, CachedNotFoundError } from '../../src/cache/errors.ts'
import { createCacheMetrics } from '../../src/cache/metrics.ts'
import type { FetchContext } from '../../src/cache/types.ts'
import { Metrics } from '../../src/infra/metrics/registry.ts'

const silent = { warn: () => {}, debug: () => {} }

/** An in-process cache (no Redis) on a clock the test moves. */
function setup() {
  const clock = { now: 1_000_000 }
  const metrics = new Metrics()
  const cache = new TwoTierCache({
    redis: null,
    metrics: createCacheMetrics(metrics),
    log: silent,
    now: () => clock.now,
  })
  return { cache, clock, metrics }
}

class NotFound extends Error {
  readonly status = 404
}

/** A fetcher that counts calls and answers what the test says. */
function origin<T>(answer: (id: string, call: number) => T | Promise<T>) {
  const calls: { id: string; context: FetchContext }[] = []
  const fetch = async (args: { id: string }, context: FetchContext): Promise<T> => {
    calls.push({ id: args.id, context })
    return answer(args.id, calls.length)
  }
  return { calls, fetch }
}

async function counter(metrics: Metrics, outcome: string): Promise<number> {
  const metric = await metrics.registry.getSingleMetric('recharge_bridge_cache_lookups_total')?.get()
  return metric?.values.find((v) => v.labels.outcome === outcome)?.value ?? 0
}

describe('two-tier cache without Redis', () => {
  it('fetches once, then answers from L1 with the same serialised JSON', async () => {
    const { cache, metrics } = setup()
    const { calls, fetch } = origin((id) => ({ id, title: 'Coffee', price: '9.99' }))
    const product = cache.define('products.get', { key: (a: { id: string }) => a.id, fetch, ttlMs: 60_000 })

    const first = await product({ id: '7' })
    const second = await product({ id: '7' })

    expect(first.state).toBe('MISS')
    expect(second.state).toBe('HIT')
    expect(second.json).toBe('{"id":"7","title":"Coffee","price":"9.99"}')
    expect(second.value).toEqual({ id: '7', title: 'Coffee', price: '9.99' })
    expect(second.value).not.toBe(first.value)
    expect(calls).toHaveLength(1)
    expect(calls[0]?.context.lane).toBe('interactive')
    expect(await counter(metrics, 'hit_l1')).toBe(1)
    expect(await counter(metrics, 'miss')).toBe(1)
  })

  it('collapses concurrent misses for one key into one fetch (in-process single-flight)', async () => {
    const { cache } = setup()
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    const { calls, fetch } = origin(async (id) => {
      await gate
      return { id }
    })
    const product = cache.define('products.get', { key: (a: { id: string }) => a.id, fetch, ttlMs: 60_000 })

    const pending = Array.from({ length: 100 }, () => product({ id: '1' }))
    release()
    const results = await Promise.all(pending)

    expect(calls).toHaveLength(1)
    expect(new Set(results.map((r) => r.json))).toEqual(new Set(['{"id":"1"}']))
  })

  it('a caller that joined a fetch the budget refused for its leader asks for itself', async () => {
    const { cache } = setup()
    // The first fetch is refused at admission (as an optional read is when the bucket is busy); the next is answered.
    const refusal = Object.assign(new Error('refused at admission'), { reason: 'admission' })
    const { calls, fetch } = origin((id, call) => {
      if (call === 1) throw refusal
      return { id }
    })
    const charges = cache.define('charges.list', { key: (a: { id: string }) => a.id, fetch, ttlMs: 60_000 })

    const [leader, follower, third] = await Promise.allSettled([
      charges({ id: 'c1' }),
      charges({ id: 'c1' }),
      charges({ id: 'c1' }),
    ])
    expect(leader.status).toBe('rejected')
    expect(follower.status === 'fulfilled' && follower.value.value).toEqual({ id: 'c1' })
    expect(third.status === 'fulfilled' && third.value.value).toEqual({ id: 'c1' })
    // The followers asked once between them, not once each.
    expect(calls).toHaveLength(2)
  })

  it('keeps keys apart', async () => {
    const { cache } = setup()
    const { calls, fetch } = origin((id) => ({ id }))
    const product = cache.define('products.get', { key: (a: { id: string }) => a.id, fetch, ttlMs: 60_000 })
    expect((await product({ id: 'a' })).value).toEqual({ id: 'a' })
    expect((await product({ id: 'b' })).value).toEqual({ id: 'b' })
    expect(calls.map((c) => c.id)).toEqual(['a', 'b'])
  })

  it('past fresh: serves stale at once and refreshes once in the background lane', async () => {
    const { cache, clock } = setup()
    const { calls, fetch } = origin((id, call) => ({ id, version: call }))
    const product = cache.define('products.get', {
      key: (a: { id: string }) => a.id,
      fetch,
      ttlMs: 1_000,
      staleWhileRevalidateMs: 10_000,
    })
    await product({ id: '1' })
    clock.now += 2_000

    const stale = await Promise.all([product({ id: '1' }), product({ id: '1' }), product({ id: '1' })])
    expect(stale.map((r) => r.state)).toEqual(['STALE', 'STALE', 'STALE'])
    expect(stale[0]?.value).toEqual({ id: '1', version: 1 })
    await expect.poll(() => calls.length).toBe(2)
    expect(calls[1]?.context.lane).toBe('background')

    await expect.poll(async () => (await product({ id: '1' })).state).toBe('HIT')
    expect((await product({ id: '1' })).value).toEqual({ id: '1', version: 2 })
    expect(calls).toHaveLength(2)
  })

  it('serves the stale entry when the origin fails, and keeps it (stale-if-error)', async () => {
    const { cache, clock, metrics } = setup()
    let failing = false
    const { calls, fetch } = origin((id) => {
      if (failing) throw new Error('upstream 503')
      return { id }
    })
    const product = cache.define('products.get', {
      key: (a: { id: string }) => a.id,
      fetch,
      ttlMs: 1_000,
      staleIfErrorMs: 60_000,
    })
    await product({ id: '1' })
    clock.now += 5_000
    failing = true

    const first = await product({ id: '1' })
    const second = await product({ id: '1' })
    expect(first.state).toBe('STALE')
    expect(first.value).toEqual({ id: '1' })
    expect(second.state).toBe('STALE')
    expect(calls).toHaveLength(3)
    expect(await counter(metrics, 'stale_error')).toBe(2)

    clock.now += 60_000
    await expect(product({ id: '1' })).rejects.toThrow('upstream 503')
  })

  it('never caches a failure other than NotFound', async () => {
    const { cache } = setup()
    const { calls, fetch } = origin((_id, call) => {
      if (call === 1) throw new Error('upstream 500')
      return { ok: true }
    })
    const product = cache.define('products.get', { key: (a: { id: string }) => a.id, fetch, ttlMs: 60_000 })
    await expect(product({ id: '1' })).rejects.toThrow('upstream 500')
    expect((await product({ id: '1' })).state).toBe('MISS')
    expect(calls).toHaveLength(2)
  })

  it('caches NotFound for negativeTtlMs only', async () => {
    const { cache, clock } = setup()
    const { calls, fetch } = origin((): { id: string } => {
      throw new NotFound('no such product')
    })
    const product = cache.define('products.get', {
      key: (a: { id: string }) => a.id,
      fetch,
      ttlMs: 60_000,
      negativeTtlMs: 30_000,
    })
    await expect(product({ id: '404' })).rejects.toBeInstanceOf(NotFound)
    const cached = await product({ id: '404' }).catch((error: unknown) => error)
    expect(cached).toBeInstanceOf(CachedNotFoundError)
    expect((cached as CachedNotFoundError).status).toBe(404)
    expect((cached as CachedNotFoundError).toAppError().code).toBe('NOT_FOUND')
    expect(calls).toHaveLength(1)

    clock.now += 31_000
    await expect(product({ id: '404' })).rejects.toBeInstanceOf(NotFound)
    expect(calls).toHaveLength(2)
  })

  it('does not serve a stale positive entry once the origin says NotFound', async () => {
    const { cache, clock } = setup()
    const { fetch } = origin((_id, call) => {
      if (call > 1) throw new NotFound('deleted')
      return { id: '1' }
    })
    const product = cache.define('products.get', {
      key: (a: { id: string }) => a.id,
      fetch,
      ttlMs: 1_000,
      staleIfErrorMs: 60_000,
    })
    await product({ id: '1' })
    clock.now += 2_000
    await expect(product({ id: '1' })).rejects.toBeInstanceOf(NotFound)
  })

  it('drops entries by tag, and by key', async () => {
    const { cache } = setup()
    const { calls, fetch } = origin((id) => ({ id }))
    const product = cache.define('products.get', {
      key: (a: { id: string }) => a.id,
      fetch,
      ttlMs: 60_000,
      tags: (a) => [`product:${a.id}`, 'catalog'],
    })
    await product({ id: '1' })
    await product({ id: '2' })
    await cache.invalidateTags(['product:1'])
    expect((await product({ id: '1' })).state).toBe('MISS')
    expect((await product({ id: '2' })).state).toBe('HIT')

    await cache.invalidateTags(['catalog'])
    expect((await product({ id: '2' })).state).toBe('MISS')
    await product.invalidate({ id: '2' })
    expect((await product({ id: '2' })).state).toBe('MISS')
    expect(calls).toHaveLength(5)
  })

  it('does not store a value fetched before an invalidation of its tags', async () => {
    const { cache, clock } = setup()
    let release: () => void = () => {}
    const { calls, fetch } = origin(async (id, call) => {
      if (call === 1) await new Promise<void>((resolve) => (release = resolve))
      return { id, call }
    })
    const product = cache.define('products.get', {
      key: (a: { id: string }) => a.id,
      fetch,
      ttlMs: 60_000,
      tags: (a) => [`product:${a.id}`],
    })
    const first = product({ id: '1' })
    await expect.poll(() => calls.length).toBe(1)
    clock.now += 1
    await cache.invalidateTags(['product:1'])
    release()
    expect((await first).value).toEqual({ id: '1', call: 1 })
    const next = await product({ id: '1' })
    expect(next.state).toBe('MISS')
    expect(next.value).toEqual({ id: '1', call: 2 })
  })

  it('does not store entries larger than maxEntryBytes', async () => {
    const { cache } = setup()
    const { calls, fetch } = origin(() => ({ blob: 'x'.repeat(2_000) }))
    const product = cache.define('products.get', {
      key: (a: { id: string }) => a.id,
      fetch,
      ttlMs: 60_000,
      maxEntryBytes: 1_000,
    })
    expect((await product({ id: '1' })).state).toBe('MISS')
    expect((await product({ id: '1' })).state).toBe('MISS')
    expect(calls).toHaveLength(2)
  })

  it('gives up at the caller deadline, serving stale when there is some', async () => {
    const { cache, clock } = setup()
    const { fetch } = origin(async (_id, call) => {
      if (call > 1) await new Promise(() => {})
      return { call }
    })
    const product = cache.define('products.get', {
      key: (a: { id: string }) => a.id,
      fetch,
      ttlMs: 1_000,
      staleIfErrorMs: 60_000,
    })
    await expect(product({ id: 'cold' }, { deadlineMs: 50 })).resolves.toMatchObject({ state: 'MISS' })
    clock.now += 2_000
    const stale = await product({ id: 'cold' }, { deadlineMs: 50 })
    expect(stale.state).toBe('STALE')

    const hanging = cache.define('hangs', {
      key: (a: { id: string }) => a.id,
      fetch: () => new Promise<never>(() => {}),
      ttlMs: 1_000,
    })
    await expect(hanging({ id: 'x' }, { deadlineMs: 30 })).rejects.toBeInstanceOf(CacheDeadlineError)
  })

  it('passes the remaining deadline and an abort signal to the fetcher', async () => {
    const { cache } = setup()
    const { calls, fetch } = origin(() => ({}))
    const product = cache.define('products.get', { key: (a: { id: string }) => a.id, fetch, ttlMs: 60_000 })
    await product({ id: '1' }, { deadlineMs: 1_234 })
    expect(calls[0]?.context.deadlineMs).toBe(1_234)
    expect(calls[0]?.context.signal).toBeInstanceOf(AbortSignal)
  })

  it('with shareValue, L1 hits share one frozen value per entry', async () => {
    const { cache } = setup()
    const { fetch } = origin((id) => ({ id, tags: ['a'] }))
    const shared = cache.define('shared', { key: (a: { id: string }) => a.id, fetch, ttlMs: 60_000, shareValue: true })
    await shared({ id: '1' })
    const first = (await shared({ id: '1' })).value
    const second = (await shared({ id: '1' })).value
    expect(second).toBe(first)
    expect(Object.isFrozen(first.tags)).toBe(true)
    expect(() => first.tags.push('b')).toThrow(TypeError)

    const copies = cache.define('copies', { key: (a: { id: string }) => a.id, fetch, ttlMs: 60_000 })
    await copies({ id: '1' })
    const own = (await copies({ id: '1' })).value
    own.tags.push('b')
    expect((await copies({ id: '1' })).value.tags).toEqual(['a'])
  })

  it('peek answers only what a call would answer at once from L1: fresh hits, counted; never misses, stale or NotFound', async () => {
    const { cache, clock, metrics } = setup()
    const { calls, fetch } = origin((id) => {
      if (id === 'gone') throw new NotFound('no such product')
      return { id }
    })
    const product = cache.define('products.get', {
      key: (a: { id: string }) => a.id,
      fetch,
      ttlMs: 60_000,
      staleWhileRevalidateMs: 60_000,
      negativeTtlMs: 30_000,
    })

    expect(product.peek({ id: '1' })).toBeUndefined()
    await product({ id: '1' })
    clock.now += 2_000
    const hit = product.peek({ id: '1' })
    expect(hit?.state).toBe('HIT')
    expect(hit?.json).toBe('{"id":"1"}')
    expect(hit?.ageMs).toBe(2_000)
    expect(await counter(metrics, 'hit_l1')).toBe(1)

    await expect(product({ id: 'gone' })).rejects.toBeInstanceOf(NotFound)
    expect(product.peek({ id: 'gone' })).toBeUndefined()

    // Past fresh the call serves stale and refreshes: that is not peek's to do.
    clock.now += 60_000
    expect(product.peek({ id: '1' })).toBeUndefined()
    expect(calls).toHaveLength(2)

    await product.invalidate({ id: '1' })
    expect(product.peek({ id: '1' })).toBeUndefined()
    expect(await counter(metrics, 'hit_l1')).toBe(1)
  })

  it('refuses two definitions with one name', () => {
    const { cache } = setup()
    cache.define('a', { key: () => '', fetch: async () => 1, ttlMs: 1 })
    expect(() => cache.define('a', { key: () => '', fetch: async () => 1, ttlMs: 1 })).toThrow(/already defined/)
  })
})
