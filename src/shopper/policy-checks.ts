import { AppError, type FieldError } from '../errors.ts'
import type { Charge } from '../recharge/schemas/charges.ts'
import type { Subscription } from '../recharge/schemas/subscriptions.ts'
import { actionLabels, type Policy, type ShopperAction } from './policy.ts'

/** Policy decisions, separate from I/O so they are easy to test and to read. */

export function notAllowed(action: ShopperAction, detail?: string): AppError {
  return new AppError('ACTION_NOT_ALLOWED', {
    detail: detail ?? `${actionLabels[action]} is not offered by this store.`,
    extensions: { action },
  })
}

export function requireAllowed(policy: Policy, action: ShopperAction): void {
  if (!policy.actions[action]) throw notAllowed(action)
}

export function unprocessable(detail: string, errors?: FieldError[]): AppError {
  return new AppError('UNPROCESSABLE', { detail, ...(errors ? { errors } : {}) })
}

/** The charge that holds this subscription's next delivery in a given state (earliest first). */
export function chargeFor(
  subscriptionId: string,
  charges: readonly Charge[],
  status: 'queued' | 'skipped',
): Charge | null {
  return (
    charges.find(
      (charge) =>
        charge.status === status && charge.line_items.some((item) => item.purchase_item_id === subscriptionId),
    ) ?? null
  )
}

/**
 * What a shopper may do with this subscription now: the store policy intersected with what its state permits.
 * `pausedUntil` is the end of its pause when it is paused (src/shopper/pause-store.ts), which offers `resume`.
 */
export function allowedActions(
  policy: Policy,
  subscription: Subscription,
  charges: readonly Charge[],
  pausedUntil: string | null = null,
): ShopperAction[] {
  const allowed: ShopperAction[] = []
  const may = (action: ShopperAction, condition: boolean) => {
    if (policy.actions[action] && condition) allowed.push(action)
  }
  if (subscription.status === 'active') {
    may('skip', subscription.is_skippable !== false && chargeFor(subscription.id, charges, 'queued') !== null)
    may('unskip', chargeFor(subscription.id, charges, 'skipped') !== null)
    may('reschedule', true)
    may('change_frequency', !subscription.is_prepaid)
    may('change_quantity', true)
    may('swap_variant', subscription.is_swappable !== false)
    may('cancel', true)
    may('pause', pausedUntil === null && subscription.next_charge_scheduled_at !== null)
    may('resume', pausedUntil !== null)
    may('apply_discount', true)
    may('order_now', pausedUntil === null && chargeFor(subscription.id, charges, 'queued') !== null)
    may('cancellation_offers', policy.actions.cancel)
  } else if (subscription.status === 'cancelled') {
    may('activate', true)
  }
  return allowed
}

/** YYYY-MM-DD of today plus `days`, in UTC (Recharge schedules by date; the store timezone is not known here). */
export function dateFromToday(days: number, now = new Date()): string {
  const date = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + days))
  return date.toISOString().slice(0, 10)
}

export function rescheduleWindow(policy: Policy, now = new Date()): { earliest: string; latest: string } {
  return {
    earliest: dateFromToday(policy.reschedule.min_days_ahead, now),
    latest: dateFromToday(policy.reschedule.max_days_ahead, now),
  }
}

export function checkNextChargeDate(policy: Policy, value: string, now = new Date()): void {
  const parsed = new Date(`${value}T00:00:00Z`)
  if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== value) {
    throw unprocessable('next_charge_date is not a calendar date.', [
      { field: 'body.next_charge_date', message: 'must be a real date (YYYY-MM-DD)' },
    ])
  }
  const { earliest, latest } = rescheduleWindow(policy, now)
  if (value < earliest || value > latest) {
    throw unprocessable(`The next delivery can be moved to a date between ${earliest} and ${latest}.`, [
      { field: 'body.next_charge_date', message: `must be between ${earliest} and ${latest}` },
    ])
  }
}

export function checkQuantity(policy: Policy, quantity: number): void {
  const { min, max } = policy.quantity
  if (quantity < min || quantity > max) {
    throw unprocessable(`The quantity must be between ${min} and ${max}.`, [
      { field: 'body.quantity', message: `must be between ${min} and ${max}` },
    ])
  }
}

/** `extraReasons`: reasons the store's Recharge retention strategies add (src/shopper/retention-offers.ts). */
export function checkCancelReason(
  policy: Policy,
  reason: string,
  comment: string | undefined,
  extraReasons: readonly string[] = [],
): void {
  if (!policy.cancel.reasons.includes(reason) && !extraReasons.includes(reason)) {
    const reasons = [...policy.cancel.reasons, ...extraReasons]
    throw unprocessable(`Choose one of the store's cancellation reasons: ${reasons.join(', ')}.`, [
      { field: 'body.reason', message: 'must be one of the store cancellation reasons' },
    ])
  }
  if (comment && comment.length > policy.cancel.comment_max_length) {
    throw unprocessable(`The comment may be at most ${policy.cancel.comment_max_length} characters long.`, [
      { field: 'body.comment', message: `must be at most ${policy.cancel.comment_max_length} characters` },
    ])
  }
}
