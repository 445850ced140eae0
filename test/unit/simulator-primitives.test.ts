import { createHash, createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { applyPercentage, formatMoney, parseMoney } from '../../src/infra/money.ts'
import { LeakyBuckets } from '../../src/simulator/bucket.ts'
import { addInterval } from '../../src/simulator/dates.ts'
import { Ledger, MAX_LEDGER_ENTRIES } from '../../src/simulator/ledger.ts'
import { paginate, parseListQuery } from '../../src/simulator/pagination.ts'
import { SeededRandom } from '../../src/simulator/random.ts'
import { signatureHeaders } from '../../src/simulator/webhooks/signing.ts'

describe('LeakyBuckets', () => {
  it('admits exactly `size` calls at one instant and drains whole calls at the leak rate', () => {
    const buckets = new LeakyBuckets(40, 2)
    const t0 = 1_000_000
    const decisions = Array.from({ length: 45 }, () => buckets.take('token', t0))
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(40)
    expect(decisions[39]).toEqual({ allowed: true, used: 40, size: 40 })
    expect(decisions[40]).toEqual({ allowed: false, used: 40, size: 40 })
    expect(buckets.take('token', t0 + 499).allowed).toBe(false)
    expect(buckets.take('token', t0 + 500)).toEqual({ allowed: true, used: 40, size: 40 })
    // 1.5 s later three more calls have drained: used 37 → the next call makes it 38.
    expect(buckets.take('token', t0 + 2000)).toEqual({ allowed: true, used: 38, size: 40 })
    expect(buckets.peek('other', t0)).toBe(0)
  })

  it('empties completely after a long idle period', () => {
    const buckets = new LeakyBuckets(10, 1)
    for (let index = 0; index < 10; index += 1) buckets.take('t', 0)
    expect(buckets.take('t', 3_600_000)).toEqual({ allowed: true, used: 1, size: 10 })
  })
})

describe('dates and money', () => {
  it('adds intervals, clamping months to the last day', () => {
    expect(addInterval('2026-01-31', 1, 'month')).toBe('2026-02-28')
    expect(addInterval('2028-01-31', 1, 'month')).toBe('2028-02-29')
    expect(addInterval('2026-12-15', 2, 'month')).toBe('2027-02-15')
    expect(addInterval('2026-03-01', 2, 'week')).toBe('2026-03-15')
    expect(addInterval('2026-03-01', -30, 'day')).toBe('2026-01-30')
  })

  it('formats minor units as Recharge money strings, zero-decimal currencies without a point', () => {
    expect(formatMoney(4900, 2)).toBe('49.00')
    expect(formatMoney(5, 2)).toBe('0.05')
    expect(formatMoney(3200, 0)).toBe('3200')
    expect(parseMoney('16.2', 2)).toBe(1620)
    expect(parseMoney(49, 2)).toBe(4900)
    expect(parseMoney('abc', 2)).toBeNull()
    // Exact decimals, half-up like the bridge: 1.005 × 100 is 100.49999… in binary floats.
    expect(parseMoney('1.005', 2)).toBe(101)
    expect(applyPercentage(125, 10)).toBe(113)
    expect(applyPercentage(-125, 10)).toBe(-113)
  })
})

describe('cursor pagination', () => {
  const records = Array.from({ length: 7 }, (_, index) => ({ id: index + 1 }))
  const byId = (record: { id: number }) => record.id

  it('pages forward and back with opaque cursors, null at the ends', () => {
    const first = paginate(
      records,
      parseListQuery({ limit: '3' }, { defaultSort: 'id-desc', sorts: ['id-desc'] }),
      byId,
    )
    expect(first.items.map(byId)).toEqual([7, 6, 5])
    expect(first.previous_cursor).toBeNull()
    const second = paginate(
      records,
      parseListQuery(
        { limit: '3', cursor: first.next_cursor as string },
        { defaultSort: 'id-desc', sorts: ['id-desc'] },
      ),
      byId,
    )
    expect(second.items.map(byId)).toEqual([4, 3, 2])
    const third = paginate(
      records,
      parseListQuery(
        { limit: '3', cursor: second.next_cursor as string },
        { defaultSort: 'id-desc', sorts: ['id-desc'] },
      ),
      byId,
    )
    expect(third.items.map(byId)).toEqual([1])
    expect(third.next_cursor).toBeNull()
    const back = paginate(
      records,
      parseListQuery(
        { limit: '3', cursor: third.previous_cursor as string },
        { defaultSort: 'id-desc', sorts: ['id-desc'] },
      ),
      byId,
    )
    expect(back.items.map(byId)).toEqual([4, 3, 2])
  })

  it('keeps the first request’s filters inside the cursor', () => {
    const first = parseListQuery({ limit: '1', status: 'active' }, { defaultSort: 'id-desc', sorts: ['id-desc'] })
    const cursor = paginate(records, first, byId).next_cursor as string
    expect(parseListQuery({ cursor }, { defaultSort: 'id-desc', sorts: ['id-desc'] }).filters).toEqual({
      status: 'active',
    })
  })

  it('rejects limit outside 1–250, unknown sorts, forged cursors and filters next to a cursor', () => {
    const options = { defaultSort: 'id-desc', sorts: ['id-desc'] }
    for (const limit of ['0', '251', 'x', '2.5']) expect(() => parseListQuery({ limit }, options)).toThrow()
    expect(() => parseListQuery({ sort_by: 'title-asc' }, options)).toThrow()
    expect(() => parseListQuery({ cursor: 'bm90IGpzb24' }, options)).toThrow()
    const cursor = paginate(records, parseListQuery({ limit: '1' }, options), byId).next_cursor as string
    expect(() => parseListQuery({ cursor, customer_id: '1' }, options)).toThrow()
    expect(() => parseListQuery({ cursor, limit: '5' }, options)).not.toThrow()
  })
})

describe('webhook signatures', () => {
  it('legacy = sha256(secret + body); v1 = HMAC-SHA256(secret, "t.body")', () => {
    const body = '{"subscription":{"id":1}}'
    const headers = signatureHeaders('s3cret', body, 1_700_000_000)
    expect(headers['x-recharge-hmac-sha256']).toBe(createHash('sha256').update(`s3cret${body}`).digest('hex'))
    const v1 = createHmac('sha256', 's3cret').update(`1700000000.${body}`).digest('hex')
    expect(headers['x-recharge-webhook-signature']).toBe(`t=1700000000,v1=${v1}`)
    expect(headers['x-recharge-webhook-timestamp']).toBe('1700000000')
  })
})

describe('SeededRandom', () => {
  it('is deterministic per seed', () => {
    expect(new SeededRandom('a').hex(30)).toBe(new SeededRandom('a').hex(30))
    expect(new SeededRandom('a').hex(30)).not.toBe(new SeededRandom('b').hex(30))
  })
})

describe('simulator options from the environment', () => {
  it('maps SIM_* variables, splits several tokens and keeps defaults for unset ones', async () => {
    const { resolveOptions, simulatorOptionsFromEnv } = await import('../../src/simulator/options.ts')
    const options = resolveOptions(
      simulatorOptionsFromEnv({
        SIM_API_TOKEN: 'sk_a, sk_b',
        SIM_BUCKET_SIZE: '80',
        SIM_CURRENCY: 'jpy',
        SIM_WEBHOOK_AUTO_DELIVER: 'false',
        SIM_SEED: '',
      }),
    )
    expect(options).toMatchObject({
      apiTokens: ['sk_a', 'sk_b'],
      bucketSize: 80,
      leakRate: 2,
      currency: 'JPY',
      webhookAutoDeliver: false,
      seed: 'recharge-bridge',
    })
    expect(() => simulatorOptionsFromEnv({ SIM_LEAK_RATE: 'fast' })).toThrow(/SIM_LEAK_RATE/)
  })
})

describe('Ledger', () => {
  it('keeps the newest entries only, and counts every request it recorded until cleared', () => {
    const ledger = new Ledger()
    const total = MAX_LEDGER_ENTRIES + 10
    for (let i = 0; i < total; i++) {
      ledger.record({ method: 'GET', path: `/customers/${i}`, query: {}, status: 200, at: new Date(0).toISOString() })
    }
    const kept = ledger.list()
    expect(kept.length).toBeLessThanOrEqual(MAX_LEDGER_ENTRIES)
    expect(kept.at(-1)?.path).toBe(`/customers/${total - 1}`)
    expect(ledger.recorded).toBe(total)
    ledger.clear()
    expect(ledger.recorded).toBe(0)
    expect(ledger.list()).toEqual([])
  })
})
