import { describe, expect, it } from 'vitest'
import type { Charge } from '../../src/recharge/schemas/charges.ts'
import type { Subscription } from '../../src/recharge/schemas/subscriptions.ts'
import { addInterval } from '../../src/shopper/pause.ts'
import { pausedUntil } from '../../src/shopper/pause-store.ts'
import { PolicyError, parsePolicy } from '../../src/shopper/policy.ts'
import { allowedActions, checkCancelReason } from '../../src/shopper/policy-checks.ts'

const subscription = (overrides: Partial<Subscription> = {}) =>
  ({
    id: '1',
    status: 'active',
    next_charge_scheduled_at: '2030-05-10',
    is_skippable: true,
    is_swappable: true,
    ...overrides,
  }) as Subscription
const queued = { id: 'c1', status: 'queued', line_items: [{ purchase_item_id: '1' }] } as unknown as Charge

describe('retention policy', () => {
  it('turns order_now off and the other retention actions on by default, with pause bounds', () => {
    const policy = parsePolicy({})
    expect(policy.actions.order_now).toBe(false)
    expect(policy.actions.pause && policy.actions.resume && policy.actions.apply_discount).toBe(true)
    expect(policy.actions.cancellation_offers).toBe(true)
    expect(policy.pause).toEqual({ max_days: 90, max_deliveries: 3 })
    expect(policy.retention).toEqual({ offers: {}, recharge_strategies: true, delay_days: 30 })
  })

  it('accepts offers per reason and refuses unknown reasons, repeated ids, long pauses and unknown keys', () => {
    const ok = parsePolicy({
      retention: {
        offers: {
          'Too expensive': [{ id: 'save', kind: 'discount', code: 'SAVE10' }],
          Other: [{ id: 'pause', kind: 'pause', deliveries: 2 }],
        },
      },
    })
    expect(ok.retention.offers['Too expensive']?.[0]).toMatchObject({ kind: 'discount', code: 'SAVE10' })
    const refused = (input: object) => () => parsePolicy(input)
    expect(refused({ retention: { offers: { Nope: [{ id: 'a', kind: 'skip' }] } } })).toThrow(/cancel.reasons/)
    expect(
      refused({
        retention: {
          offers: { Other: [{ id: 'a', kind: 'skip' }], 'Too expensive': [{ id: 'a', kind: 'skip' }] },
        },
      }),
    ).toThrow(/repeats/)
    expect(refused({ retention: { offers: { Other: [{ id: 'p', kind: 'pause', days: 200 }] } } })).toThrow(
      /pause.max_days/,
    )
    expect(refused({ retention: { offers: { Other: [{ id: 'p', kind: 'pause' }] } } })).toThrow(/days or deliveries/)
    expect(refused({ retention: { offers: { Other: [{ id: 'x', kind: 'cashback' }] } } })).toThrow(PolicyError)
    expect(refused({ pause: { max_weeks: 2 } })).toThrow(/max_weeks/)
  })
})

describe('pauses', () => {
  it('adds days, weeks and months to a date, clamping at a month end', () => {
    expect(addInterval('2030-01-31', 'month', 1)).toBe('2030-02-28')
    expect(addInterval('2030-12-15', 'month', 2)).toBe('2031-02-15')
    expect(addInterval('2030-03-01', 'week', 2)).toBe('2030-03-15')
    expect(addInterval('2030-02-27', 'day', 3)).toBe('2030-03-02')
  })

  it('says paused only while Recharge still shows the pause: active, next charge on its end, in the future', () => {
    const record = { resumes_on: '2030-05-10', resume_to: '2030-04-10' }
    expect(pausedUntil(record, subscription(), '2030-04-01')).toBe('2030-05-10')
    expect(pausedUntil(undefined, subscription(), '2030-04-01')).toBeNull()
    expect(pausedUntil(record, subscription({ next_charge_scheduled_at: '2030-05-11' }), '2030-04-01')).toBeNull()
    expect(pausedUntil(record, subscription({ status: 'cancelled' }), '2030-04-01')).toBeNull()
    expect(pausedUntil(record, subscription(), '2030-05-10')).toBeNull()
  })

  it('offers resume (not pause or order now) on a paused subscription', () => {
    const policy = parsePolicy({ actions: { order_now: true } })
    const active = allowedActions(policy, subscription(), [queued])
    expect(active).toEqual(expect.arrayContaining(['pause', 'order_now', 'apply_discount', 'cancellation_offers']))
    expect(active).not.toContain('resume')
    const paused = allowedActions(policy, subscription(), [queued], '2030-05-10')
    expect(paused).toContain('resume')
    expect(paused).not.toContain('pause')
    expect(paused).not.toContain('order_now')
    expect(allowedActions(parsePolicy({}), subscription(), [queued])).not.toContain('order_now')
  })

  it('accepts a reason of the store’s retention strategies when it is passed along', () => {
    const policy = parsePolicy({})
    expect(() => checkCancelReason(policy, 'It is too expensive', undefined)).toThrow()
    expect(() => checkCancelReason(policy, 'It is too expensive', undefined, ['It is too expensive'])).not.toThrow()
  })
})
