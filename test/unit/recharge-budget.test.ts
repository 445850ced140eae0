import { describe, expect, it } from 'vitest'
import type { RedisClient } from '../../src/plugins/redis.ts'
import { type Allowance, LocalAllowances, RedisAllowances } from '../../src/recharge/budget/allowance.ts'
import { budgetLimits, UpstreamBudget } from '../../src/recharge/budget/budget.ts'

const allowance = (key: string, burst: number, intervalMs: number): Allowance => ({ key, burst, intervalMs })

describe('allowances (in process)', () => {
  it('allow a burst, refuse the next call with the wait until one call has refilled, then allow one', async () => {
    let now = 1_000_000
    const book = new LocalAllowances(() => now)
    const rule = [allowance('a', 3, 1000)]
    const answers = [await book.take(rule), await book.take(rule), await book.take(rule), await book.take(rule)]
    expect(answers.map((answer) => answer.ok)).toEqual([true, true, true, false])
    expect(answers[3]).toEqual({ ok: false, retryAfterMs: 1000, refusedBy: 0 })
    now += 1000
    expect((await book.take(rule)).ok).toBe(true)
    expect((await book.take(rule)).ok).toBe(false)
  })

  it('take from several allowances together or from none', async () => {
    const book = new LocalAllowances(() => 0)
    const small = allowance('small', 1, 1000)
    const large = allowance('large', 10, 1000)
    expect((await book.take([large, small])).ok).toBe(true)
    expect(await book.take([large, small])).toMatchObject({ ok: false, refusedBy: 1 })
    // The refused take spent nothing from `large`: 9 more fit.
    for (let index = 0; index < 9; index++) expect((await book.take([large])).ok).toBe(true)
    expect((await book.take([large])).ok).toBe(false)
  })

  it('charge a cost of several calls at once', async () => {
    const book = new LocalAllowances(() => 0)
    const rule = [allowance('c', 6, 10_000)]
    expect((await book.take(rule, 2)).ok).toBe(true)
    expect((await book.take(rule, 2)).ok).toBe(true)
    expect((await book.take(rule, 2)).ok).toBe(true)
    expect((await book.take(rule, 1)).ok).toBe(false)
  })
})

describe('allowances (Redis unavailable)', () => {
  it('answer from the in-process book when a command fails, and report the failure once per streak', async () => {
    const failures: unknown[] = []
    const failing = {
      isReady: true,
      evalSha: async () => {
        throw new Error('connection lost')
      },
      eval: async () => {
        throw new Error('connection lost')
      },
    } as unknown as RedisClient
    const book = new RedisAllowances({ redis: failing, onDegraded: (error) => failures.push(error) })
    const rule = [allowance('r', 2, 60_000)]
    const answers = [await book.take(rule), await book.take(rule), await book.take(rule)]
    expect(answers.map((answer) => answer.ok)).toEqual([true, true, false])
    expect(failures).toHaveLength(1)
  })
})

describe('the budget', () => {
  it('sizes the public share from the bucket: 10 calls at once and 0.5/s of 40 calls at 2/s with a quarter', () => {
    const limits = budgetLimits({
      bucketSize: 40,
      leakRate: 2,
      publicShare: 0.25,
      publicClientCallsPerMinute: 20,
      shopperRereadsPerMinute: 6,
    })
    expect(limits.public).toEqual({ burst: 10, perSecond: 0.5 })
    expect(limits.client).toEqual({ burst: 20, perMinute: 20 })
    expect(limits.shopper).toEqual({ burst: 6, perMinute: 6 })
  })

  it('names the client allowance or the public share as the one that refused', async () => {
    const budget = new UpstreamBudget({
      store: new LocalAllowances(() => 0),
      keyPrefix: 'rb:{test}',
      settings: {
        bucketSize: 8,
        leakRate: 2,
        publicShare: 0.5,
        publicClientCallsPerMinute: 2,
        shopperRereadsPerMinute: 2,
      },
    })
    expect((await budget.chargePublic('198.51.100.1')).ok).toBe(true)
    expect((await budget.chargePublic('198.51.100.1')).ok).toBe(true)
    expect(await budget.chargePublic('198.51.100.1')).toMatchObject({ ok: false, by: 'client' })
    expect((await budget.chargePublic('198.51.100.2')).ok).toBe(true)
    expect((await budget.chargePublic('198.51.100.2')).ok).toBe(true)
    // The public share (4 calls) is spent: a new client is refused by it.
    expect(await budget.chargePublic('198.51.100.3')).toMatchObject({ ok: false, by: 'public-share' })
    expect(await budget.chargePublic(null)).toMatchObject({ ok: false, by: 'public-share' })
  })
})
