import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { storageKey } from '../../src/idempotency/fingerprint.ts'
import { RedisIdempotencyStore } from '../../src/idempotency/redis-store.ts'
import { IdempotencyStoreUnavailableError, SharedIdempotencyStore } from '../../src/idempotency/shared-store.ts'
import { ClaimLostError } from '../../src/idempotency/types.ts'
import type { RedisClient } from '../../src/infra/redis.ts'
import { RedisPortalLinkStore } from '../../src/shopper/portal-links.ts'
import { connectRedis, deleteKeys, listKeys, uniquePrefix } from '../support/redis.ts'

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
const timings = { reserveTtlMs: 10_000, answerTtlMs: 86_400_000 }

describe('Redis idempotency store', () => {
  it('lets exactly one of many concurrent requests claim a key', async () => {
    const store = new RedisIdempotencyStore(redis, timings)
    const key = storageKey(prefix, 'customer:1', 'concurrent')
    const results = await Promise.all(Array.from({ length: 25 }, () => store.begin(key, 'fp')))
    expect(results.filter((result) => result.kind === 'started')).toHaveLength(1)
    expect(results.filter((result) => result.kind === 'in-flight' && result.sameRequest)).toHaveLength(24)
  })

  it('stores the response with a TTL under a hash-tagged key and replays it', async () => {
    const store = new RedisIdempotencyStore(redis, timings)
    const key = storageKey(prefix, 'customer:2', 'stored')
    expect(key).toMatch(/\{[A-Za-z0-9_-]+\}:/)
    const claim = await store.begin(key, 'fp')
    if (claim.kind !== 'started') throw new Error('expected to start')
    await store.dispatch(key, claim.owner, 'fp')
    await store.complete(key, claim.owner, 'fp', response)
    expect(await redis.pTTL(key)).toBeGreaterThan(86_000_000)
    expect(await store.begin(key, 'fp')).toEqual({ kind: 'completed', sameRequest: true, response })
    expect(await store.begin(key, 'other')).toMatchObject({ kind: 'completed', sameRequest: false })
  })

  it('releases only its own marker', async () => {
    const store = new RedisIdempotencyStore(redis, timings)
    const key = storageKey(prefix, 'customer:3', 'release')
    const claim = await store.begin(key, 'fp')
    if (claim.kind !== 'started') throw new Error('expected to start')
    await store.release(key, 'someone-else')
    expect((await store.begin(key, 'fp')).kind).toBe('in-flight')
    await store.release(key, claim.owner)
    expect((await store.begin(key, 'fp')).kind).toBe('started')
  })

  it('an expired reservation can neither be dispatched nor completed by its late owner over a newer claim', async () => {
    const shortLived = new RedisIdempotencyStore(redis, { ...timings, reserveTtlMs: 30 })
    const store = new RedisIdempotencyStore(redis, timings)
    const key = storageKey(prefix, 'customer:4', 'late')
    const first = await shortLived.begin(key, 'fp')
    await new Promise((resolve) => setTimeout(resolve, 60))
    const second = await store.begin(key, 'fp')
    if (first.kind !== 'started' || second.kind !== 'started') throw new Error('expected both to start')
    await expect(store.dispatch(key, first.owner, 'fp')).rejects.toThrow(ClaimLostError)
    await store.complete(key, first.owner, 'fp', response)
    expect((await store.begin(key, 'fp')).kind).toBe('in-flight')
  })

  it('keeps a dispatched key whose answer was never stored, and calls it unsettled after the reservation window', async () => {
    const store = new RedisIdempotencyStore(redis, { ...timings, reserveTtlMs: 40 })
    const key = storageKey(prefix, 'customer:5', 'unsettled')
    const claim = await store.begin(key, 'fp')
    if (claim.kind !== 'started') throw new Error('expected to start')
    await store.dispatch(key, claim.owner, 'fp')
    expect((await store.begin(key, 'fp')).kind).toBe('in-flight')
    await new Promise((resolve) => setTimeout(resolve, 80))
    expect(await store.begin(key, 'fp')).toMatchObject({ kind: 'unsettled', sameRequest: true })
    expect(await redis.pTTL(key)).toBeGreaterThan(86_000_000)
  })

  it('refuses to answer while Redis is unreachable (no in-process fallback)', async () => {
    const broken = await connectRedis()
    await broken.close()
    const store = new SharedIdempotencyStore(new RedisIdempotencyStore(broken, timings), timings, silent)
    const key = storageKey(prefix, 'customer:6', 'down')
    await expect(store.begin(key, 'fp')).rejects.toThrow(IdempotencyStoreUnavailableError)
  })
})

describe('portal links in Redis', () => {
  it('are single-use even when consumed concurrently, and never store the token as a key', async () => {
    const links = new RedisPortalLinkStore(redis, silent, prefix)
    const { token } = await links.issue('42')
    const keys = await listKeys(redis, `${prefix}*`)
    expect(keys.some((key) => key.includes(token))).toBe(false)
    // A second store stands for another replica.
    const other = new RedisPortalLinkStore(redis, silent, prefix)
    const results = await Promise.all([links.consume(token), other.consume(token), other.consume(token)])
    expect(results.filter((value) => value?.customerId === '42')).toHaveLength(1)
    expect(await links.consume(token)).toBeNull()
    expect(await links.consume('not-a-token')).toBeNull()
  })
})
