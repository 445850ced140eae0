import { describe, expect, it } from 'vitest'
import type { Clock } from '../../src/infra/clock.ts'
import { spendAs } from '../../src/recharge/budget/spender.ts'
import { RechargeRateLimitedError, RechargeUnavailableError } from '../../src/recharge/errors.ts'
import { gcraParams, LocalGcra, lateTolerance } from '../../src/recharge/queue/gcra.ts'
import { RechargeQueue } from '../../src/recharge/queue/queue.ts'
import { sparePolicy } from '../../src/recharge/queue/redis-gcra.ts'
import { ManualClock } from '../support/manual-clock.ts'

/** The queue over the in-process book (the Redis book runs the same arithmetic: test/integration/recharge-queue-redis). */
function queueWith(capacity: number, ratePerSecond: number, clock?: Clock) {
  const params = gcraParams({ capacity, ratePerSecond })
  const store = clock ? new LocalGcra(params, clock.now) : new LocalGcra(params)
  return {
    params,
    store,
    queue: new RechargeQueue({ store, lateToleranceMs: lateTolerance(params), ...(clock ? { clock } : {}) }),
  }
}

function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b)
  let best = 0
  for (let i = 0; i < sorted.length; i++) {
    let j = i
    while (j < sorted.length && (sorted[j] as number) - (sorted[i] as number) < windowMs) j++
    best = Math.max(best, j - i)
  }
  return best
}

describe('RechargeQueue over the in-process book', () => {
  it('books in arrival order and paces at the leak rate after the burst', async () => {
    const clock = new ManualClock()
    const { queue } = queueWith(4, 20, clock)
    const sent: number[] = []
    const started = clock.now()
    const calls = Promise.all(
      Array.from({ length: 6 }, () =>
        queue.run({ lane: 'interactive', deadlineAt: clock.now() + 3_000, operation: 'GET /x' }, async () => {
          sent.push(clock.now() - started)
          return { kind: 'done', value: null }
        }),
      ),
    )
    await clock.advance(1_000)
    await calls
    // capacity 4 - safety 3 + 1 = 2 at once, then one per 50 ms.
    expect(sent).toEqual([0, 0, 50, 100, 150, 200])
  })

  it('re-books sends that a stalled event loop released late, so they do not land together', async () => {
    const clock = new ManualClock()
    const { queue } = queueWith(4, 20, clock)
    const sent: number[] = []
    const calls = Array.from({ length: 10 }, () =>
      queue.run({ lane: 'interactive', deadlineAt: clock.now() + 5_000, operation: 'GET /x' }, async () => {
        sent.push(clock.now())
        return { kind: 'done', value: null }
      }),
    )
    // Let every call book its slot (0, 0, 50, 100 … 400 ms), then stall the process for 600 ms: every sleeping call
    // wakes at once, late.
    await clock.advance(5)
    await clock.stall(600)
    await clock.advance(5_000)
    await Promise.all(calls)
    // Without re-booking the eight sleeping calls would all go out in the same millisecond after the stall.
    expect(maxInWindow(sent, 40)).toBeLessThanOrEqual(3)
  })

  it('refuses at admission with Retry-After when the slot is past the deadline', async () => {
    const { queue } = queueWith(4, 1)
    const job = async () => ({ kind: 'done' as const, value: 1 })
    for (let i = 0; i < 3; i++)
      await queue.run({ lane: 'interactive', deadlineAt: Date.now() + 3_000, operation: 'GET /x' }, job)
    const error = await queue
      .run({ lane: 'interactive', deadlineAt: Date.now() + 500, operation: 'GET /x' }, job)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RechargeRateLimitedError)
    expect((error as RechargeRateLimitedError).retryAfterSeconds).toBeGreaterThanOrEqual(1)
  })

  it('background waits in line behind its reserve while interactive still goes at once', async () => {
    const { store } = queueWith(20, 0.5)
    let booked = 0
    for (let i = 0; i < 30; i++) {
      const r = await store.reserve({ lane: 'background', ticket: `b${i}`, maxWaitMs: 60_000 })
      if (r.kind !== 'booked') break
      booked++
    }
    expect(booked).toBe(16)
    expect(await store.reserve({ lane: 'background', ticket: 'late', maxWaitMs: 60_000 })).toMatchObject({
      kind: 'queued',
    })
    expect(await store.reserve({ lane: 'interactive', ticket: 'i', maxWaitMs: 0 })).toMatchObject({
      kind: 'booked',
      waitMs: 0,
    })
  })

  it('an optional read books ahead of the background line, but only halfway into the interactive reserve', async () => {
    // Recharge's own bucket: 40 calls, 2 a second (T = 500 ms, background ceiling 28 calls + 1 s horizon, interactive
    // 38, reserve 10: optional calls reach 28 + 5).
    const clock = new ManualClock()
    const { store } = queueWith(40, 2, clock)
    let background = 0
    while ((await store.reserve({ lane: 'background', ticket: `b${background}`, maxWaitMs: 60_000 })).kind === 'booked')
      background++
    // The background book is full up to its horizon, and a waiter is in line.
    expect(background).toBe(31)
    const optional = () => store.reserve({ lane: 'optional', ticket: '', maxWaitMs: 3_000 })
    // Past the line's head, up to 2.5 s ahead (half the reserve).
    expect(await optional()).toMatchObject({ kind: 'booked', waitMs: 1_500 })
    expect(await optional()).toMatchObject({ kind: 'booked', waitMs: 2_000 })
    expect(await optional()).toMatchObject({ kind: 'booked', waitMs: 2_500 })
    // The optional ceiling is reached: the half of the reserve above it is the interactive calls'.
    expect(await optional()).toMatchObject({ kind: 'rejected' })
    let interactive = 0
    while ((await store.reserve({ lane: 'interactive', ticket: '', maxWaitMs: 0 })).kind === 'booked') interactive++
    expect(interactive).toBe(5)
  })

  it('a read run as an optional spender jumps the calls waiting in the background line', async () => {
    const clock = new ManualClock()
    const { queue } = queueWith(40, 2, clock)
    const sent: string[] = []
    const call = (name: string, lane: 'interactive' | 'background') =>
      queue.run(
        { lane, deadlineAt: clock.now() + (lane === 'background' ? 60_000 : 3_000), operation: name },
        async () => {
          sent.push(name)
          return { kind: 'done', value: null }
        },
      )
    // Forty background calls: 31 book at once, the rest wait in line for the bucket to leak.
    const backgroundCalls = Array.from({ length: 40 }, (_, i) => call(`background ${i}`, 'background'))
    await clock.advance(10)
    const optional = spendAs({ kind: 'optional' }, () => call('optional', 'interactive'))
    await clock.advance(30_000)
    await Promise.all([...backgroundCalls, optional])
    // Sent before the background calls that were waiting when it arrived (a background lane would have put it last).
    expect(sent.indexOf('optional')).toBeLessThan(sent.indexOf('background 31'))
  })

  it('re-sends after a 429 within the deadline, and reports it as UPSTREAM_BUSY once the deadline is gone', async () => {
    const { queue } = queueWith(40, 20)
    let attempts = 0
    const value = await queue.run(
      { lane: 'interactive', deadlineAt: Date.now() + 3_000, operation: 'POST /x' },
      async () => (++attempts === 1 ? { kind: 'rate-limited' } : { kind: 'done', value: 'ok' }),
    )
    expect(value).toBe('ok')
    expect(attempts).toBe(2)
    const error = await queue
      .run({ lane: 'interactive', deadlineAt: Date.now() + 100, operation: 'POST /x' }, async () => ({
        kind: 'rate-limited',
      }))
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RechargeRateLimitedError)
    expect((error as RechargeRateLimitedError).toAppError().code).toBe('UPSTREAM_BUSY')
  })

  it('drains admitted calls on close and refuses new ones', async () => {
    const { queue } = queueWith(40, 20)
    let finished = false
    const running = queue.run(
      { lane: 'interactive', deadlineAt: Date.now() + 3_000, operation: 'GET /x' },
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 100))
        finished = true
        return { kind: 'done', value: 1 }
      },
    )
    await queue.drain(2_000)
    expect(finished).toBe(true)
    await expect(running).resolves.toBe(1)
    await expect(
      queue.run({ lane: 'interactive', deadlineAt: Date.now() + 3_000, operation: 'GET /x' }, async () => ({
        kind: 'done',
        value: 1,
      })),
    ).rejects.toBeInstanceOf(RechargeUnavailableError)
  })

  it('counts calls in flight until each is answered or fails, and drain returns when the last one fails', async () => {
    const { queue } = queueWith(40, 20)
    let fail: (error: Error) => void = () => {}
    const failing = queue.run(
      { lane: 'interactive', deadlineAt: Date.now() + 3_000, operation: 'PUT /x', addressId: '7' },
      () => new Promise((_, reject) => (fail = reject)),
    )
    const answered = queue.run(
      { lane: 'interactive', deadlineAt: Date.now() + 3_000, operation: 'GET /x' },
      async () => ({
        kind: 'done',
        value: 1,
      }),
    )
    expect(queue.pending).toBe(2)
    await expect(answered).resolves.toBe(1)
    expect(queue.pending).toBe(1)
    // Longer than the test may run: only the last call settling can end the drain.
    const drained = queue.drain(60_000)
    await new Promise((resolve) => setTimeout(resolve, 20))
    fail(new Error('upstream reset'))
    await expect(failing).rejects.toThrow('upstream reset')
    await drained
    expect(queue.pending).toBe(0)
  })

  it('writes an upstream bucket level back to the book only when upstream is fuller than the book', async () => {
    const { store, queue } = queueWith(40, 2)
    const written: number[] = []
    const reconcile = store.reconcile.bind(store)
    store.reconcile = async (used) => {
      written.push(used)
      await reconcile(used)
    }
    for (let i = 0; i < 5; i++) {
      await queue.run({ lane: 'interactive', deadlineAt: Date.now() + 3_000, operation: 'GET /x' }, async () => ({
        kind: 'done',
        value: null,
      }))
    }
    // Recharge counts our own five calls: the book already holds them.
    await queue.observeLimit(5)
    await queue.observeLimit(4)
    expect(written).toEqual([])
    // Another consumer filled the bucket: the book must learn it, and the next call waits for it.
    await queue.observeLimit(39)
    expect(written).toEqual([39])
    expect(await store.reserve({ lane: 'interactive', ticket: 't', maxWaitMs: 0 })).toMatchObject({ kind: 'rejected' })
  })
})

describe('spare slots of the shared book', () => {
  it('are off at Recharge budgets and only grow where a Redis round trip per call would show', () => {
    expect(sparePolicy(gcraParams({ capacity: 40, ratePerSecond: 2 })).maxSlots).toBe(0)
    // 20/s: a spare slot used 100 ms late is 2 calls of bunching, within the 3-call safety margin's 2.
    expect(sparePolicy(gcraParams({ capacity: 400, ratePerSecond: 20 }))).toEqual({ maxSlots: 2, validMs: 100 })
    expect(sparePolicy(gcraParams({ capacity: 1e9, ratePerSecond: 1e9 }))).toEqual({ maxSlots: 1024, validMs: 100 })
  })
})
