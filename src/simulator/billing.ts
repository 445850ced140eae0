import { randomBytes } from 'node:crypto'
import { nextOpenDate } from './delivery-schedule.ts'
import { orderFromCharge } from './orders.ts'
import { rebuildQueuedCharges } from './scheduling.ts'
import type { SimState } from './state.ts'
import { emitSubscription } from './subscription-rules.ts'

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
      let next = nextOpenDate(state, subscription, charge.scheduled_at)
      while (next <= today) next = nextOpenDate(state, subscription, next)
      subscription.next_charge_scheduled_at = next
      subscription.updated_at = now
    }
    rebuildQueuedCharges(state, charge.address_id)
    state.emit('charge/paid', { charge })
    state.emit('order/created', { order })
    for (const item of charge.line_items) {
      const subscription =
        item.purchase_item_type === 'subscription'
          ? state.subscriptions.get(item.purchase_item_id as number)
          : undefined
      if (subscription) emitSubscription(state, 'subscription/updated', subscription)
    }
    processed.push(charge.id)
  }
  return processed
}
