import { nextOpenDate } from './delivery-schedule.ts'
import { fieldError, unprocessable } from './errors.ts'
import { chargesNear, rebuildQueuedCharges } from './scheduling.ts'
import type { SimState } from './state.ts'
import { emitSubscription } from './subscription-rules.ts'
import type { Charge, LineItem } from './types.ts'

/**
 * Skip and unskip, per purchase item (2021-11 `purchase_item_ids`; omitted = every subscription item):
 * - skip moves each skipped subscription's next date one interval past the charge date and parks its items on a
 *   SKIPPED charge for that date (the charge itself when every item is skipped, so its id stays meaningful);
 * - unskip puts the items back on the date's queued charge and the subscriptions' next date back to that date.
 */
export function skipCharge(state: SimState, charge: Charge, purchaseItemIds: unknown): Charge {
  if (charge.status !== 'queued') throw unprocessable({ charge: ['Only a queued charge can be skipped.'] })
  const subscriptionItems = charge.line_items.filter((item) => item.purchase_item_type === 'subscription')
  const targets = readTargets(purchaseItemIds, subscriptionItems)
  const skipped = subscriptionItems.filter((item) => targets.has(item.purchase_item_id as number))
  const remaining = charge.line_items.filter((item) => !skipped.includes(item))
  const now = state.timestamp()

  const parked = findSkipped(state, charge)
  if (remaining.length === 0) {
    charge.status = 'skipped'
    charge.line_items = [...(parked?.line_items ?? []), ...skipped]
    charge.updated_at = now
    if (parked) state.charges.delete(parked.id)
  } else if (parked) {
    parked.line_items.push(...skipped)
    parked.updated_at = now
  } else {
    const copy: Charge = structuredClone(charge)
    copy.id = state.nextId('charge', 310_000_001)
    copy.status = 'skipped'
    copy.line_items = skipped
    copy.created_at = now
    copy.updated_at = now
    state.charges.set(copy.id, copy)
  }

  for (const item of skipped) {
    const subscription = state.subscriptions.get(item.purchase_item_id as number)
    if (!subscription) continue
    subscription.next_charge_scheduled_at = nextOpenDate(state, subscription, charge.scheduled_at)
    subscription.updated_at = now
  }
  rebuildQueuedCharges(state, charge.address_id)
  for (const item of skipped) {
    const subscription = state.subscriptions.get(item.purchase_item_id as number)
    if (subscription) emitSubscription(state, 'subscription/skipped', subscription)
  }
  if (charge.status === 'skipped') state.emit('charge/updated', { charge })
  return charge
}

export function unskipCharge(state: SimState, charge: Charge, purchaseItemIds: unknown): Charge {
  if (charge.status !== 'skipped') throw unprocessable({ charge: ['Only a skipped charge can be unskipped.'] })
  if (charge.scheduled_at < state.today())
    throw fieldError('scheduled_at', 'Cannot unskip a charge scheduled in the past.')
  const targets = readTargets(purchaseItemIds, charge.line_items)
  const restored = charge.line_items.filter((item) => targets.has(item.purchase_item_id as number))
  const now = state.timestamp()
  charge.line_items = charge.line_items.filter((item) => !restored.includes(item))
  charge.updated_at = now

  let aheadOfNext = false
  for (const item of restored) {
    const subscription = state.subscriptions.get(item.purchase_item_id as number)
    if (subscription?.status !== 'active') continue
    // A date skipped ahead of time (after the next charge) simply returns to the schedule.
    if (subscription.next_charge_scheduled_at && subscription.next_charge_scheduled_at < charge.scheduled_at) {
      aheadOfNext = true
      continue
    }
    subscription.next_charge_scheduled_at = charge.scheduled_at
    subscription.updated_at = now
  }
  if (aheadOfNext && charge.line_items.length === 0) {
    // No charge exists yet for a date past the next one: the parked charge goes, answered as queued again.
    state.charges.delete(charge.id)
    for (const item of restored) {
      const subscription = state.subscriptions.get(item.purchase_item_id as number)
      if (subscription) emitSubscription(state, 'subscription/unskipped', subscription)
    }
    return { ...charge, status: 'queued', line_items: restored }
  }
  if (charge.line_items.length === 0) {
    const queuedSameDay = [...chargesNear(state, charge.address_id)].some(
      (other) =>
        other.status === 'queued' &&
        other.address_id === charge.address_id &&
        other.scheduled_at === charge.scheduled_at,
    )
    if (queuedSameDay) state.charges.delete(charge.id)
    else charge.status = 'queued'
  }
  rebuildQueuedCharges(state, charge.address_id)
  for (const item of restored) {
    const subscription = state.subscriptions.get(item.purchase_item_id as number)
    if (subscription) emitSubscription(state, 'subscription/unskipped', subscription)
  }
  const current = state.charges.get(charge.id)
  if (current) return current
  // The items went back onto the queued charge already scheduled that day: answer with that one.
  return [...chargesNear(state, charge.address_id)].find(
    (other) =>
      other.status === 'queued' && other.address_id === charge.address_id && other.scheduled_at === charge.scheduled_at,
  ) as Charge
}

function findSkipped(state: SimState, charge: Charge): Charge | undefined {
  for (const other of chargesNear(state, charge.address_id)) {
    if (
      other.id !== charge.id &&
      other.status === 'skipped' &&
      other.address_id === charge.address_id &&
      other.scheduled_at === charge.scheduled_at
    ) {
      return other
    }
  }
  return undefined
}

function readTargets(value: unknown, items: LineItem[]): Set<number> {
  const available = new Set(items.map((item) => item.purchase_item_id as number))
  if (value === undefined || value === null) return available
  if (!Array.isArray(value) || value.length === 0)
    throw fieldError('purchase_item_ids', 'Must be a non-empty list of ids.')
  const ids = value.map(Number)
  const unknown = ids.filter((id) => !available.has(id))
  if (unknown.length > 0)
    throw fieldError('purchase_item_ids', `Purchase items ${unknown.join(', ')} are not on this charge.`)
  return new Set(ids)
}
