import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRedisClient, type RedisClient } from '../../src/infra/redis.ts'
import { RechargeConflictError, RechargeRateLimitedError } from '../../src/recharge/errors.ts'
import { tokenFingerprint } from '../../src/recharge/fingerprint.ts'
import type { RechargeMetrics } from '../../src/recharge/observability.ts'
import { RedisAddressLocks } from '../../src/recharge/queue/address-lock.ts'
import { FailoverGcra } from '../../src/recharge/queue/failover-gcra.ts'
import { gcraParams, LocalGcra } from '../../src/recharge/queue/gcra.ts'
import { RechargeQueue } from '../../src/recharge/queue/queue.ts'
import { RedisGcra } from '../../src/recharge/queue/redis-gcra.ts'
import { DisposableRedis } from '../../tools/redis-server.ts'
import { connectRedis, deleteKeys, listKeys, uniquePrefix } from '../support/redis.ts'

let redis: RedisClient
const base = uniquePrefix('recharge-queue')

beforeAll(async () => {
  redis = await connectRedis()
})

afterAll(async () => {
  await deleteKeys(redis, `${base}*`)
  await redis.close()
})

function prefixFor(name: string): string {
  return `${base}:${name}:{${tokenFingerprint(`token-${name}`)}}`
}

/** The shared client, counting the script calls (EVALSHA) made through it. */
function countingScriptCalls(): { client: RedisClient; readonly calls: number } {
  let calls = 0
  const client = new Proxy(redis, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver)
      if (property !== 'evalSha' || typeof value !== 'function') return value
      return (...args: unknown[]) => {
        calls++
        return value.apply(target, args)
      }
    },
  })
  return {
    client,
    get calls() {
      return calls
    },
  }
}

describe('shared GCRA book in Redis', () => {
  it('two replicas share one budget: once one fills the bucket the other is refused', async () => {
    const params = gcraParams({ capacity: 10, ratePerSecond: 1 })
    const a = new RedisGcra({ redis, keyPrefix: prefixFor('shared'), params })
    const b = new RedisGcra({ redis, keyPrefix: prefixFor('shared'), params })
    const booked: string[] = []
    for (let i = 0; i < 20; i++) {
      const reservation = await a.reserve({ lane: 'interactive', ticket: `a${i}`, maxWaitMs: 0 })
      if (reservation.kind === 'booked') booked.push(`a${i}`)
    }
    // Burst = capacity - safety (2) + 1 calls at once.
    expect(booked).toHaveLength(9)
    const refused = await b.reserve({ lane: 'interactive', ticket: 'b0', maxWaitMs: 0 })
    expect(refused.kind).toBe('rejected')
    if (refused.kind === 'rejected') expect(refused.retryAfterMs).toBeGreaterThan(0)
    // With a deadline, B books a future slot instead (arrival order, no polling).
    const later = await b.reserve({ lane: 'interactive', ticket: 'b1', maxWaitMs: 5_000 })
    expect(later.kind).toBe('booked')
    if (later.kind === 'booked') expect(later.waitMs).toBeGreaterThan(500)
  })

  it('an optional read books ahead of the background line, but only halfway into the interactive reserve', async () => {
    // Recharge's own bucket: 40 calls, 2 a second; the same counts as the in-process book (test/unit/recharge-queue).
    const params = gcraParams({ capacity: 40, ratePerSecond: 2 })
    const book = new RedisGcra({ redis, keyPrefix: prefixFor('optional'), params })
    let background = 0
    while ((await book.reserve({ lane: 'background', ticket: `b${background}`, maxWaitMs: 60_000 })).kind === 'booked')
      background++
    expect(background).toBe(31)
    const optional = () => book.reserve({ lane: 'optional', ticket: '', maxWaitMs: 3_000 })
    for (let i = 0; i < 3; i++) expect(await optional()).toMatchObject({ kind: 'booked' })
    expect(await optional()).toMatchObject({ kind: 'rejected' })
    let interactive = 0
    while ((await book.reserve({ lane: 'interactive', ticket: '', maxWaitMs: 0 })).kind === 'booked') interactive++
    expect(interactive).toBe(5)
  })

  it('concurrent interactive reservations share script calls and book exactly as if they came one by one', async () => {
    const params = gcraParams({ capacity: 10, ratePerSecond: 1 })
    const scripts = countingScriptCalls()
    const book = new RedisGcra({ redis: scripts.client, keyPrefix: prefixFor('coalesced'), params })
    const reservations = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        book.reserve({ lane: 'interactive', ticket: `c${i}`, maxWaitMs: i % 2 === 0 ? 0 : 3_500 }),
      ),
    )
    // Even callers accept no wait: the burst (capacity - safety + 1 = 9) goes to the first ones in arrival order.
    // Odd callers accept 3.5 s: after the burst they get the slots 1, 2 and 3 s ahead, as one by one.
    const booked = reservations.map((r, i) => (r.kind === 'booked' ? i : -1)).filter((i) => i >= 0)
    expect(booked.filter((i) => i % 2 === 0)).toEqual([0, 2, 4, 6, 8])
    expect(booked.filter((i) => i % 2 === 1)).toEqual([1, 3, 5, 7, 9, 11, 13])
    const waits = reservations.flatMap((r) => (r.kind === 'booked' ? [r.waitMs] : []))
    expect(waits.slice(0, 9)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0])
    expect(waits.slice(9).map((wait) => Math.round(wait / 100) * 100)).toEqual([1000, 2000, 3000])
    for (const r of reservations) if (r.kind === 'rejected') expect(r.retryAfterMs).toBeGreaterThan(0)
    // The first call went alone (nothing was out); the other 99 waited for it and went in batches of at most 64.
    expect(scripts.calls).toBe(3)
  })

  it('a busy replica books spare slots for its next callers: they book without Redis, and the book counts them', async () => {
    // A slow leak (0.01 call/s: under 0.3 of a call in the test's whole 30 s timeout) keeps the level exact enough.
    const params = gcraParams({ capacity: 1000, ratePerSecond: 0.01 })
    const scripts = countingScriptCalls()
    const spare = { maxSlots: 8, validMs: 60_000 }
    const a = new RedisGcra({ redis: scripts.client, keyPrefix: prefixFor('spare'), params, spare })
    const b = new RedisGcra({ redis, keyPrefix: prefixFor('spare'), params })
    const interactive = (i: number) => a.reserve({ lane: 'interactive', ticket: `s${i}`, maxWaitMs: 0 })
    // The first caller goes alone and books no spare slot (nothing says more will come); the 9 that waited for it go
    // together and book spare slots for 8 more.
    const first = await Promise.all(Array.from({ length: 10 }, (_, i) => interactive(i)))
    expect(first.every((r) => r.kind === 'booked' && r.waitMs === 0)).toBe(true)
    expect(scripts.calls).toBe(2)
    for (let i = 10; i < 18; i++) expect(await interactive(i)).toMatchObject({ kind: 'booked', waitMs: 0 })
    expect(scripts.calls).toBe(2)
    // Another replica sees the spare slots as booked calls.
    const level = await b.level()
    expect(level).toBeGreaterThan(17.5)
    expect(level).toBeLessThanOrEqual(18)
    await interactive(18)
    expect(scripts.calls).toBe(3)
  })

  it('spare slots fill at most half the bucket, lapse when unused, and a 429 drops them', async () => {
    const params = gcraParams({ capacity: 20, ratePerSecond: 1 })
    const scripts = countingScriptCalls()
    const replica = (name: string, validMs: number) => {
      const book = new RedisGcra({
        redis: scripts.client,
        keyPrefix: prefixFor(name),
        params,
        spare: { maxSlots: 50, validMs },
      })
      return { book, interactive: () => book.reserve({ lane: 'interactive', ticket: 't', maxWaitMs: 0 }) }
    }
    const a = replica('spare-bounds', 60_000)
    const b = new RedisGcra({ redis, keyPrefix: prefixFor('spare-bounds'), params })
    // 1 alone, then 6 together wanting more: interactive calls may fill 18 calls (20 - safety), spare slots only up to
    // 9, so 2 are booked.
    await Promise.all(Array.from({ length: 7 }, a.interactive))
    expect(scripts.calls).toBe(2)
    expect(await b.level()).toBeGreaterThan(8.5)
    await a.interactive()
    await a.interactive()
    expect(scripts.calls).toBe(2)
    await a.interactive()
    expect(scripts.calls).toBe(3)
    // Past half the bucket: no spare slot, each caller books in Redis.
    await Promise.all(Array.from({ length: 3 }, a.interactive))
    let before = scripts.calls
    await a.interactive()
    expect(scripts.calls).toBe(before + 1)

    /** A burst on `r` books spare slots; one of them is handed out without a script call. */
    const spendOneSpare = async (r: ReturnType<typeof replica>) => {
      await Promise.all(Array.from({ length: 4 }, r.interactive))
      const calls = scripts.calls
      await r.interactive()
      expect(scripts.calls).toBe(calls)
    }

    // A spare slot not used within its validity lapses.
    const lapsing = replica('spare-lapse', 300)
    await spendOneSpare(lapsing)
    before = scripts.calls
    await new Promise((resolve) => setTimeout(resolve, 350))
    await lapsing.interactive()
    expect(scripts.calls).toBe(before + 1)

    // A 429 drops them: the next caller books in Redis and finds the bucket full.
    const penalized = replica('spare-penalty', 60_000)
    await spendOneSpare(penalized)
    await penalized.book.penalize()
    before = scripts.calls
    expect(await penalized.interactive()).toMatchObject({ kind: 'rejected' })
    expect(scripts.calls).toBe(before + 1)
  })

  it('keys carry the token fingerprint as a hash tag, never the token', async () => {
    const book = new RedisGcra({
      redis,
      keyPrefix: prefixFor('fingerprint'),
      params: gcraParams({ capacity: 10, ratePerSecond: 1 }),
    })
    await book.reserve({ lane: 'interactive', ticket: 'f0', maxWaitMs: 0 })
    const keys = await listKeys(redis, `${prefixFor('fingerprint')}*`)
    expect(keys.length).toBeGreaterThan(0)
    for (const key of keys) {
      expect(key).toMatch(/:\{[0-9a-f]{16}\}:gcra/)
      expect(key).not.toContain('token-fingerprint')
    }
  })

  it('background keeps the reserve free: queued while interactive still books at once', async () => {
    const params = gcraParams({ capacity: 20, ratePerSecond: 0.5 })
    const book = new RedisGcra({ redis, keyPrefix: prefixFor('lanes'), params })
    let backgroundBooked = 0
    for (let i = 0; i < 30; i++) {
      const r = await book.reserve({ lane: 'background', ticket: `bg${i}`, maxWaitMs: 60_000 })
      if (r.kind === 'booked') backgroundBooked++
      else {
        expect(r.kind).toBe('queued')
        await book.leave(`bg${i}`)
        break
      }
    }
    // 20 - 5 reserve - 2 safety + 1, plus the horizon (2 intervals) background may book ahead.
    expect(backgroundBooked).toBe(16)
    // The reserve is still there for interactive calls, at once.
    for (let i = 0; i < 3; i++) {
      expect(await book.reserve({ lane: 'interactive', ticket: `i${i}`, maxWaitMs: 0 })).toMatchObject({
        kind: 'booked',
        waitMs: 0,
      })
    }
  })

  it('serves background waiters in arrival order across replicas', async () => {
    const params = gcraParams({ capacity: 4, ratePerSecond: 20 })
    const a = new RedisGcra({ redis, keyPrefix: prefixFor('line'), params })
    const b = new RedisGcra({ redis, keyPrefix: prefixFor('line'), params })
    const queueA = new RechargeQueue({ store: a })
    const queueB = new RechargeQueue({ store: b })
    const order: string[] = []
    const calls: Promise<unknown>[] = []
    for (let i = 0; i < 12; i++) {
      const queue = i % 2 === 0 ? queueA : queueB
      const name = `${i % 2 === 0 ? 'a' : 'b'}${i}`
      calls.push(
        queue.run({ lane: 'background', deadlineAt: Date.now() + 10_000, operation: 'GET /x' }, async () => {
          order.push(name)
          return { kind: 'done', value: name }
        }),
      )
      await new Promise((resolve) => setTimeout(resolve, 3))
    }
    await Promise.all(calls)
    expect(order).toEqual(['a0', 'b1', 'a2', 'b3', 'a4', 'b5', 'a6', 'b7', 'a8', 'b9', 'a10', 'b11'])
  })

  it('a 429 penalty makes the bucket read full; reconcile pushes it forward only when upstream is fuller', async () => {
    const params = gcraParams({ capacity: 10, ratePerSecond: 1 })
    const book = new RedisGcra({ redis, keyPrefix: prefixFor('penalty'), params })
    expect(await book.level()).toBe(0)
    await book.reconcile(4)
    expect(await book.level()).toBeGreaterThan(3.9)
    await book.reconcile(1)
    expect(await book.level()).toBeGreaterThan(3.5)
    await book.penalize()
    expect(await book.level()).toBeGreaterThan(9.9)
    const next = await book.reserve({ lane: 'interactive', ticket: 'x', maxWaitMs: 10_000 })
    expect(next.kind).toBe('booked')
    // Full bucket: the next slot is `safety` (2) intervals away.
    if (next.kind === 'booked') expect(next.waitMs).toBeGreaterThan(1_500)
  })

  it('admission refuses a call whose slot falls after its deadline, unsent, with an integer Retry-After', async () => {
    const params = gcraParams({ capacity: 4, ratePerSecond: 0.2 })
    const queue = new RechargeQueue({ store: new RedisGcra({ redis, keyPrefix: prefixFor('deadline'), params }) })
    let sent = 0
    const job = async () => {
      sent++
      return { kind: 'done' as const, value: true }
    }
    for (let i = 0; i < 3; i++)
      await queue.run({ lane: 'interactive', deadlineAt: Date.now() + 3_000, operation: 'GET /x' }, job)
    const error = await queue
      .run({ lane: 'interactive', deadlineAt: Date.now() + 3_000, operation: 'GET /x' }, job)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RechargeRateLimitedError)
    const problem = (error as RechargeRateLimitedError).toAppError()
    expect(problem.code).toBe('UPSTREAM_BUSY')
    expect(Number.isInteger(problem.retryAfter)).toBe(true)
    expect(sent).toBe(3)
  })
})

describe('address locks in Redis', () => {
  it('serialise writes under one address across replicas, bounded by the deadline', async () => {
    const keyPrefix = prefixFor('locks')
    const one = new RedisAddressLocks({ redis, keyPrefix, log: console })
    const two = new RedisAddressLocks({ redis, keyPrefix, log: console })
    const release = await one.acquire('77', Date.now() + 2_000)
    const blocked = await two.acquire('77', Date.now() + 150).catch((e: unknown) => e)
    expect(blocked).toBeInstanceOf(RechargeConflictError)
    // Another address is independent: free while '77' is still held.
    const other = await two.acquire('78', Date.now() + 100)
    await other()
    const waiting = two.acquire('77', Date.now() + 3_000)
    await new Promise((resolve) => setTimeout(resolve, 50))
    await release()
    const releaseTwo = await waiting
    await releaseTwo()
  })
})

describe('Redis down', () => {
  it('falls back to an in-process share when Redis stops, reports degraded, and recovers', async () => {
    const server = await DisposableRedis.start()
    const client = createRedisClient(server.url, 'recharge-queue-failover')
    client.on('error', () => {})
    await client.connect()
    const degraded: boolean[] = []
    const metrics = { degraded: (on: boolean) => degraded.push(on) } as unknown as RechargeMetrics
    const params = gcraParams({ capacity: 10, ratePerSecond: 5 })
    const store = new FailoverGcra({
      shared: new RedisGcra({ redis: client, keyPrefix: prefixFor('failover'), params }),
      local: new LocalGcra(gcraParams({ capacity: 5, ratePerSecond: 2.5 })),
      metrics,
      retryAfterMs: 100,
    })
    expect((await store.reserve({ lane: 'interactive', ticket: 't', maxWaitMs: 0 })).kind).toBe('booked')
    expect(store.degraded).toBe(false)
    await server.stop()
    const during = await store.reserve({ lane: 'interactive', ticket: 't', maxWaitMs: 0 })
    expect(during.kind).toBe('booked')
    expect(store.degraded).toBe(true)
    await server.restart()
    for (let i = 0; i < 100 && !client.isReady; i++) await new Promise((resolve) => setTimeout(resolve, 50))
    await new Promise((resolve) => setTimeout(resolve, 150))
    await store.reserve({ lane: 'interactive', ticket: 't', maxWaitMs: 10_000 })
    expect(store.degraded).toBe(false)
    expect(degraded).toEqual([false, true, false])
    client.destroy()
    await server.stop()
  })

  it('starts the in-process share from the level the shared book last reported, not from an empty bucket', async () => {
    const server = await DisposableRedis.start()
    const client = createRedisClient(server.url, 'recharge-queue-handover')
    client.on('error', () => {})
    await client.connect()
    const params = gcraParams({ capacity: 10, ratePerSecond: 5 })
    const store = new FailoverGcra({
      shared: new RedisGcra({ redis: client, keyPrefix: prefixFor('handover'), params }),
      local: new LocalGcra(gcraParams({ capacity: 5, ratePerSecond: 2.5 })),
      retryAfterMs: 100,
    })
    // The shared book nearly full: these sends still go out after Redis is gone.
    for (let i = 0; i < 8; i++) {
      expect((await store.reserve({ lane: 'interactive', ticket: `h${i}`, maxWaitMs: 5_000 })).kind).toBe('booked')
    }
    await server.stop()
    // An empty in-process book would book at once and meet a full upstream bucket (a 429); it waits instead.
    const during = await store.reserve({ lane: 'interactive', ticket: 'h-during', maxWaitMs: 0 })
    expect(store.degraded).toBe(true)
    expect(during.kind).not.toBe('booked')
    client.destroy()
  })
})
