import type { SimState } from './state.ts'
import type { Customer, Subscription } from './types.ts'

/** Renders stored records with the fields Recharge derives from other records. */
export interface SubscriptionCounts {
  active: number
  total: number
}

/** Subscription counts of every customer in one pass (for rendering lists). */
export function subscriptionCounts(state: SimState): Map<number, SubscriptionCounts> {
  const counts = new Map<number, SubscriptionCounts>()
  for (const subscription of state.subscriptions.values()) {
    let entry = counts.get(subscription.customer_id)
    if (!entry) {
      entry = { active: 0, total: 0 }
      counts.set(subscription.customer_id, entry)
    }
    entry.total += 1
    if (subscription.status === 'active') entry.active += 1
  }
  return counts
}

/** One customer's subscription counts, from the by-customer index. */
function countsOf(state: SimState, customerId: number): SubscriptionCounts {
  const subscriptions = state.subscriptions.ofCustomer(customerId)
  let active = 0
  for (const subscription of subscriptions) if (subscription.status === 'active') active += 1
  return { active, total: subscriptions.length }
}

/** Ids of the subscriptions that sit on a queued charge, in one pass (for rendering lists). */
export function queuedSubscriptionIds(state: SimState): Set<number> {
  const ids = new Set<number>()
  for (const charge of state.charges.values()) {
    if (charge.status !== 'queued') continue
    for (const item of charge.line_items) {
      if (item.purchase_item_type === 'subscription') ids.add(item.purchase_item_id as number)
    }
  }
  return ids
}

export function customerView(state: SimState, customer: Customer, counts?: Map<number, SubscriptionCounts>) {
  const { active, total } = counts?.get(customer.id) ?? countsOf(state, customer.id)
  const { id, analytics_data, created_at, email, external_customer_id, first_charge_processed_at, first_name } =
    customer
  return {
    id,
    analytics_data,
    created_at,
    email,
    external_customer_id,
    first_charge_processed_at,
    first_name,
    has_payment_method_in_dunning: customer.has_payment_method_in_dunning,
    has_valid_payment_method: customer.has_valid_payment_method,
    hash: customer.hash,
    last_name: customer.last_name,
    phone: customer.phone ?? null,
    subscriptions_active_count: active,
    subscriptions_total_count: total,
    updated_at: customer.updated_at,
  }
}

export function subscriptionView(state: SimState, subscription: Subscription, queued?: Set<number>) {
  const hasQueued = queued ? queued.has(subscription.id) : isOnQueuedCharge(state, subscription)
  const { id, address_id, customer_id, analytics_data, cancellation_reason, cancellation_reason_comments } =
    subscription
  return {
    id,
    address_id,
    customer_id,
    analytics_data,
    cancellation_reason,
    cancellation_reason_comments,
    cancelled_at: subscription.cancelled_at,
    charge_interval_frequency: subscription.charge_interval_frequency,
    created_at: subscription.created_at,
    expire_after_specific_number_of_charges: subscription.expire_after_specific_number_of_charges,
    external_product_id: subscription.external_product_id,
    external_variant_id: subscription.external_variant_id,
    has_queued_charges: hasQueued,
    is_prepaid: subscription.is_prepaid,
    is_skippable: subscription.is_skippable,
    is_swappable: subscription.is_swappable,
    max_retries_reached: subscription.max_retries_reached,
    next_charge_scheduled_at: subscription.next_charge_scheduled_at,
    order_day_of_month: subscription.order_day_of_month,
    order_day_of_week: subscription.order_day_of_week,
    order_interval_frequency: subscription.order_interval_frequency,
    order_interval_unit: subscription.order_interval_unit,
    presentment_currency: subscription.presentment_currency,
    price: subscription.price,
    product_title: subscription.product_title,
    properties: subscription.properties,
    quantity: subscription.quantity,
    sku: subscription.sku,
    sku_override: subscription.sku_override,
    status: subscription.status,
    updated_at: subscription.updated_at,
    variant_title: subscription.variant_title,
  }
}

function isOnQueuedCharge(state: SimState, subscription: Subscription): boolean {
  for (const charge of state.charges.ofCustomer(subscription.customer_id)) {
    if (charge.status !== 'queued' || charge.address_id !== subscription.address_id) continue
    for (const item of charge.line_items) {
      if (item.purchase_item_type === 'subscription' && item.purchase_item_id === subscription.id) return true
    }
  }
  return false
}
