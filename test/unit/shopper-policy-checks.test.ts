import { describe, expect, it } from 'vitest'
import { AppError } from '../../src/errors.ts'
import type { Charge } from '../../src/recharge/schemas/charges.ts'
import type { Subscription } from '../../src/recharge/schemas/subscriptions.ts'
import { parsePolicy } from '../../src/shopper/policy.ts'
import {
  allowedActions,
  checkCancelReason,
  checkNextChargeDate,
  checkQuantity,
  rescheduleWindow,
} from '../../src/shopper/policy-checks.ts'
import { portalUrlBuilder } from '../../src/shopper/portal-url.ts'

const subscription = (overrides: Partial<Subscription> = {}) =>
  ({
    id: '1',
    status: 'active',
    is_prepaid: false,
    is_skippable: true,
    is_swappable: true,
    ...overrides,
  }) as Subscription
const charge = (status: string, subscriptionId = '1') =>
  ({ id: `c-${status}`, status, line_items: [{ purchase_item_id: subscriptionId }] }) as unknown as Charge

function codeOf(action: () => void): string | undefined {
  try {
    action()
  } catch (error) {
    return error instanceof AppError ? error.code : 'other'
  }
  return undefined
}

describe('allowed actions', () => {
  const policy = parsePolicy({})

  it('offers skip only with a queued charge and unskip only with a skipped one', () => {
    expect(allowedActions(policy, subscription(), [])).not.toContain('skip')
    expect(allowedActions(policy, subscription(), [charge('queued')])).toContain('skip')
    expect(allowedActions(policy, subscription(), [charge('queued', '2')])).not.toContain('skip')
    expect(allowedActions(policy, subscription(), [charge('skipped')])).toContain('unskip')
  })

  it('offers only reactivation on a cancelled subscription, nothing on an expired one', () => {
    expect(allowedActions(policy, subscription({ status: 'cancelled' }), [])).toEqual(['activate'])
    expect(allowedActions(policy, subscription({ status: 'expired' }), [])).toEqual([])
  })

  it('honours the policy and the subscription flags', () => {
    const strict = parsePolicy({ actions: { cancel: false, change_quantity: false } })
    const actions = allowedActions(strict, subscription({ is_prepaid: true, is_swappable: false }), [])
    expect(actions).not.toContain('cancel')
    expect(actions).not.toContain('change_quantity')
    expect(actions).not.toContain('change_frequency')
    expect(actions).not.toContain('swap_variant')
    expect(actions).toContain('reschedule')
  })
})

describe('input bounds', () => {
  const policy = parsePolicy({ reschedule: { min_days_ahead: 2, max_days_ahead: 10 }, quantity: { min: 1, max: 3 } })
  const now = new Date('2026-03-30T23:30:00Z')

  it('computes the reschedule window from UTC today', () => {
    expect(rescheduleWindow(policy, now)).toEqual({ earliest: '2026-04-01', latest: '2026-04-09' })
    expect(codeOf(() => checkNextChargeDate(policy, '2026-04-01', now))).toBeUndefined()
    expect(codeOf(() => checkNextChargeDate(policy, '2026-03-31', now))).toBe('UNPROCESSABLE')
    expect(codeOf(() => checkNextChargeDate(policy, '2026-04-10', now))).toBe('UNPROCESSABLE')
    expect(codeOf(() => checkNextChargeDate(policy, '2026-04-31', now))).toBe('UNPROCESSABLE')
  })

  it('bounds quantity and requires a listed cancellation reason', () => {
    expect(codeOf(() => checkQuantity(policy, 3))).toBeUndefined()
    expect(codeOf(() => checkQuantity(policy, 4))).toBe('UNPROCESSABLE')
    expect(codeOf(() => checkCancelReason(policy, 'Too expensive', undefined))).toBeUndefined()
    expect(codeOf(() => checkCancelReason(policy, 'too expensive', undefined))).toBe('UNPROCESSABLE')
    expect(codeOf(() => checkCancelReason(policy, 'Other', 'x'.repeat(501)))).toBe('UNPROCESSABLE')
  })
})

describe('hosted portal URL', () => {
  const base = {
    RECHARGE_API_URL: 'http://127.0.0.1:4010',
    RECHARGE_STORE_SUBDOMAIN: 'my-store',
    DEMO_STOREFRONT: false,
    NODE_ENV: 'test' as const,
    PUBLIC_URL: 'http://localhost:3000',
  }

  it('points at the store subdomain, or (demo storefront on) at the bridge, which forwards to the simulator', () => {
    expect(portalUrlBuilder({ ...base, demoMode: false })('abc123def')).toBe(
      'https://my-store.admin.rechargeapps.com/portal/abc123def/subscriptions',
    )
    expect(portalUrlBuilder({ ...base, demoMode: true })('abc123def')).toBe(
      'http://localhost:3000/portal/abc123def/subscriptions',
    )
    expect(portalUrlBuilder({ ...base, demoMode: false, DEMO_STOREFRONT: true })('abc123def')).toBe(
      'http://localhost:3000/portal/abc123def/subscriptions',
    )
  })

  it('refuses without a subdomain and refuses a hash that could change the path', () => {
    expect(
      codeOf(() => portalUrlBuilder({ ...base, RECHARGE_STORE_SUBDOMAIN: undefined, demoMode: false })('abc123def')),
    ).toBe('PORTAL_UNAVAILABLE')
    expect(codeOf(() => portalUrlBuilder({ ...base, demoMode: false })('../../admin'))).toBe('UPSTREAM_UNAVAILABLE')
  })
})

describe('identity cache tag', () => {
  it('is the tag the checkout drops after a first purchase', async () => {
    const { subjectTag } = await import('../../src/shopper/records.ts')
    const { customerSubjectTag } = await import('../../src/checkout/invalidation.ts')
    const { parseSubject } = await import('../../src/identity/customer-token.ts')
    expect(subjectTag(parseSubject(' Alice@Example.com'))).toBe(customerSubjectTag('alice@example.com '))
  })
})
