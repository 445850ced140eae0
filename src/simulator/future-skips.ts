import { isDate } from './dates.ts'
import { isScheduledDate, skippedChargeOn } from './delivery-schedule.ts'
import { fieldError } from './errors.ts'
import { applyTotals, chargesNear, newCharge, subscriptionLineItem } from './scheduling.ts'
import { skipCharge } from './skips.ts'
import type { SimState } from './state.ts'
import { emitSubscription } from './subscription-rules.ts'
import type { Address, Charge, Subscription } from './types.ts'

/**
 * `POST /addresses/{id}/charges/skip` `{date, subscription_ids}`: skips a delivery that may have no charge yet.
 * - The date must be one of the subscriptions' scheduled deliveries (the storefront SDK: "This date must be within
 *   the delivery schedules of the Customer"), else 422 on `date`.
 * - A QUEUED charge on that date is skipped like `POST /charges/{id}/skip` with those purchase items.
 * - Otherwise the items are parked on a SKIPPED charge for that date (created, or the one already there), and the
 *   subscriptions keep their next charge date: billing later steps over the skipped date (`nextOpenDate`
 *   in delivery-schedule.ts).
 * Emits `subscription/skipped` per subscription and `charge/created` or `charge/updated` for the skipped charge.
 */
export function skipFutureCharge(state: SimState, address: Address, body: Record<string, unknown>): Charge {
  const date = body.date
  if (date === undefined || date === null || date === '') throw fieldError('date', 'Missing data for required field.')
  if (!isDate(date)) throw fieldError('date', 'Not a valid date.')
  const subscriptions = readSubscriptions(state, address, body.subscription_ids)
  const outside = subscriptions.filter((subscription) => !isScheduledDate(state, subscription, date))
  if (outside.length > 0) {
    throw fieldError(
      'date',
      `${date} is not in the delivery schedule of subscription ${outside.map((sub) => sub.id).join(', ')}.`,
    )
  }
  const already = subscriptions.filter((subscription) => skippedChargeOn(state, subscription, date))
  if (already.length > 0) {
    throw fieldError(
      'subscription_ids',
      `Subscription ${already.map((sub) => sub.id).join(', ')} is already skipped on ${date}.`,
    )
  }

  const queued = [...chargesNear(state, address.id)].find(
    (charge) => charge.status === 'queued' && charge.address_id === address.id && charge.scheduled_at === date,
  )
  if (queued) {
    const ids = subscriptions.map((subscription) => subscription.id)
    const answer = skipCharge(state, queued, ids)
    // Skipping part of a charge leaves it queued with the other items: answer the charge that holds the skip.
    if (answer.status === 'skipped') return answer
    return skippedChargeOn(state, subscriptions[0] as Subscription, date) ?? answer
  }

  const now = state.timestamp()
  const items = subscriptions.map((subscription) => subscriptionLineItem(state, subscription))
  let parked = [...chargesNear(state, address.id)].find(
    (charge) => charge.status === 'skipped' && charge.address_id === address.id && charge.scheduled_at === date,
  )
  if (parked) {
    parked.line_items.push(...items)
    applyTotals(state, parked)
    parked.updated_at = now
    state.emit('charge/updated', { charge: parked })
  } else {
    parked = newCharge(state, address, date, items, 'skipped', 'recurring')
    state.charges.set(parked.id, parked)
    state.emit('charge/created', { charge: parked })
  }
  for (const subscription of subscriptions) emitSubscription(state, 'subscription/skipped', subscription)
  return parked
}

function readSubscriptions(state: SimState, address: Address, value: unknown): Subscription[] {
  if (value === undefined || value === null) throw fieldError('subscription_ids', 'Missing data for required field.')
  if (!Array.isArray(value) || value.length === 0)
    throw fieldError('subscription_ids', 'Must be a non-empty list of ids.')
  const ids = [...new Set(value.map(Number))]
  const unknown = ids.filter((id) => {
    const subscription = state.subscriptions.get(id)
    return !subscription || subscription.address_id !== address.id || subscription.status !== 'active'
  })
  if (unknown.length > 0)
    throw fieldError(
      'subscription_ids',
      `Subscription ${unknown.join(', ')} is not an active subscription of this address.`,
    )
  const subscriptions = ids.map((id) => state.subscriptions.get(id) as Subscription)
  const unskippable = subscriptions.filter((subscription) => !subscription.is_skippable || subscription.is_prepaid)
  if (unskippable.length > 0)
    throw fieldError(
      'subscription_ids',
      `Subscription ${unskippable.map((sub) => sub.id).join(', ')} cannot be skipped.`,
    )
  return subscriptions
}
