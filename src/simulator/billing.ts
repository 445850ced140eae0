import { randomBytes } from 'node:crypto'
import { nextOpenDate } from './delivery-schedule.ts'
import { setAddressDiscount } from './discount-rules.ts'
import { orderFromCharge } from './orders.ts'
import type { AppliedDiscount } from './retention-types.ts'
import { rebuildQueuedCharges } from './scheduling.ts'
import type { SimState } from './state.ts'
import { emitSubscription } from './subscription-rules.ts'
import type { Charge } from './types.ts'

/**
 * Recurring billing, run when the simulator clock is moved forward (`POST /__sim/clock`): every QUEUED charge
 * scheduled on or before "today" succeeds, gets its order, and its subscriptions move on by one interval (which
 * queues the next charge). Emits charge/paid and order/created. Returns the ids of the processed charges.
 */
export function processDueCharges(state: SimState): number[] {
  const today = state.today()
  const due = [...state.charges.values()].filter((charge) => charge.status === 'queued' && charge.scheduled_at <= today)
  const processed: number[] = []
  for (const charge of due.sort((a, b) => a.scheduled_at.localeCompare(b.scheduled_at) || a.id - b.id)) {
    billCharge(state, charge, charge.scheduled_at)
    processed.push(charge.id)
  }
  return processed
}

/**
 * Bills one queued charge now: it succeeds, its order is created, its onetimes are used up and each active
 * subscription on it moves on one interval from `stepFrom` (the scheduled date for the scheduler, today for
 * `POST /charges/{id}/process`) to the first date after today. Emits charge/paid and order/created, then
 * subscription/updated per subscription. Returns the order.
 */
export function billCharge(state: SimState, charge: Charge, stepFrom: string) {
  const today = state.today()
  const now = state.timestamp()
  charge.status = 'success'
  charge.processed_at = now
  charge.updated_at = now
  charge.orders_count = 1
  charge.external_transaction_id = { payment_processor: `ch_sim${randomBytes(10).toString('hex')}` }
  charge.external_order_id = { ecommerce: String(5_100_000_000 + charge.id) }
  const order = orderFromCharge(state, charge)
  state.orders.set(order.id, order)
  for (const item of charge.line_items) {
    if (item.purchase_item_type === 'onetime') {
      state.onetimes.delete(item.purchase_item_id as number)
      continue
    }
    const subscription = state.subscriptions.get(item.purchase_item_id as number)
    if (subscription?.status !== 'active') continue
    let next = nextOpenDate(state, subscription, stepFrom)
    while (next <= today) next = nextOpenDate(state, subscription, next)
    subscription.next_charge_scheduled_at = next
    subscription.updated_at = now
    state.pauses.delete(subscription.id)
  }
  const customer = state.customers.get(charge.customer.id)
  if (customer && !customer.first_charge_processed_at) customer.first_charge_processed_at = state.naiveTimestamp()
  retireUsedUpDiscount(state, charge)
  rebuildQueuedCharges(state, charge.address_id)
  state.emit('charge/paid', { charge })
  state.emit('order/created', { order })
  for (const item of charge.line_items) {
    const subscription =
      item.purchase_item_type === 'subscription' ? state.subscriptions.get(item.purchase_item_id as number) : undefined
    if (subscription) emitSubscription(state, 'subscription/updated', subscription)
  }
  return order
}

/**
 * `usage_limits.max_subsequent_redemptions`: an address discount lasts for its first charge and that many more;
 * once used up it leaves the address (before the next charge is queued, so that one is billed in full).
 */
function retireUsedUpDiscount(state: SimState, charge: Charge): void {
  const address = state.addresses.get(charge.address_id)
  const ref = address?.discounts[0]
  if (!address || !ref || (charge.discounts[0] as AppliedDiscount | undefined)?.id !== ref.id) return
  const limit = state.storeDiscounts.get(ref.id)?.usage_limits.max_subsequent_redemptions ?? null
  if (limit === null) return
  let used = 0
  for (const order of state.orders.values()) {
    if (order.address_id === address.id && (order.discounts as AppliedDiscount[]).some((line) => line.id === ref.id))
      used += 1
  }
  if (used <= limit) return
  setAddressDiscount(state, address, null)
  address.updated_at = state.timestamp()
  state.emit('address/updated', { address })
}
