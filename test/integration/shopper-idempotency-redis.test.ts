import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FallbackIdempotencyStore } from '../../src/idempotency/fallback-store.ts'
import { storageKey } from '../../src/idempotency/fingerprint.ts'
import { MemoryIdempotencyStore } from '../../src/idempotency/memory-store.ts'
import { RedisIdempotencyStore } from '../../src/idempotency/redis-store.ts'
import type { RedisClient } from '../../src/infra/redis.ts'
import { RedisPortalLinkStore } from '../../src/shopper/portal-links.ts'
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts'

const prefix = `${uniquePrefix('shopper-idem')}:`
const silent = pino({ level: 'silent' })
let redis: RedisClient

beforeAll(async () => {
  redis = await connectRedis()
})
afterAll(async () => {
  await deleteKeys(redis, `${prefix}*`)
  await redis.close()
})

const response = { status: 201, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' }

describe('Redis idempotency store', () => {
  it('lets exactly one of many concurrent requests claim a key', async () => {
    const store = new RedisIdempotencyStore(redis)
    const key = storageKey(prefix, 'customer:1', 'concurrent')
    const results = await Promise.all(Array.from({ length: 25 }, () => store.begin(key, 'fp', 10_000)))
    expect(results.filter((result) => result.kind === 'started')).toHaveLength(1)
    expect(results.filter((result) => result.kind === 'in-flight' && result.sameRequest)).toHaveLength(24)
  })

  it('stores the response with a TTL under a hash-tagged key and replays it', async () => {
    const store = new RedisIdempotencyStore(redis)
    const key = storageKey(prefix, 'customer:2', 'stored')
    expect(key).toMatch(/\{[A-Za-z0-9_-]+\}:/)
    const claim = await store.begin(key, 'fp', 10_000)
    if (claim.kind !== 'started') throw new Error('expected to start')
    await store.complete(key, claim.owner, 'fp', response, 86_400_000)
    expect(await redis.pTTL(key)).toBeGreaterThan(86_000_000)
    expect(await store.begin(key, 'fp', 10_000)).toEqual({ kind: 'completed', sameRequest: true, response })
    expect(await store.begin(key, 'other', 10_000)).toMatchObject({ kind: 'completed', sameRequest: false })
  })

  it('releases only its own marker', async () => {
    const store = new RedisIdempotencyStore(redis)
    const key = storageKey(prefix, 'customer:3', 'release')
    const claim = await store.begin(key, 'fp', 10_000)
    if (claim.kind !== 'started') throw new Error('expected to start')
    await store.release(key, 'someone-else')
    expect((await store.begin(key, 'fp', 10_000)).kind).toBe('in-flight')
    await store.release(key, claim.owner)
    expect((await store.begin(key, 'fp', 10_000)).kind).toBe('started')
  })

  it('an expired marker cannot be completed by its late owner over a newer claim', async () => {
    const store = new RedisIdempotencyStore(redis)
    const key = storageKey(prefix, 'customer:4', 'late')
    const first = await store.begin(key, 'fp', 30)
    await new Promise((resolve) => setTimeout(resolve, 60))
    const second = await store.begin(key, 'fp', 10_000)
    if (first.kind !== 'started' || second.kind !== 'started') throw new Error('expected both to start')
    await store.complete(key, first.owner, 'fp', response, 10_000)
    expect((await store.begin(key, 'fp', 10_000)).kind).toBe('in-flight')
  })

  it('falls back to this replica while Redis is unreachable', async () => {
    const broken = await connectRedis()
    await broken.close()
    const store = new FallbackIdempotencyStore(new RedisIdempotencyStore(broken), new MemoryIdempotencyStore(), silent)
    const key = storageKey(prefix, 'customer:5', 'fallback')
    const claim = await store.begin(key, 'fp', 10_000)
    if (claim.kind !== 'started') throw new Error('expected to start')
    await store.complete(key, claim.owner, 'fp', response, 10_000)
    expect((await store.begin(key, 'fp', 10_000)).kind).toBe('completed')
  })
})

describe('portal links in Redis', () => {
  it('are single-use even when consumed concurrently, and never store the token as a key', async () => {
    const links = new RedisPortalLinkStore(redis, silent, prefix)
    const { token } = await links.issue('42')
    const keys: string[] = []
    for await (const batch of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) keys.push(...batch)
    expect(keys.some((key) => key.includes(token))).toBe(false)
    // A second store stands for another replica.
    const other = new RedisPortalLinkStore(redis, silent, prefix)
    const results = await Promise.all([links.consume(token), other.consume(token), other.consume(token)])
    expect(results.filter((value) => value === '42')).toHaveLength(1)
    expect(await links.consume(token)).toBeNull()
    expect(await links.consume('not-a-token')).toBeNull()
  })
})
