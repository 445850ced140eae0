import { findVariant, imagesOf } from './catalog.ts'
import { addInterval } from './dates.ts'
import { addressDiscounts, discountMinorFor } from './discount-amount.ts'
import { postalOf } from './postal.ts'
import type { SimState } from './state.ts'
import type { Address, Charge, Customer, LineItem, Onetime, Subscription } from './types.ts'

/**
 * Queued charges are derived, like Recharge does it: one QUEUED charge per (address, date) holding every active
 * subscription and onetime due that day. Any change to a subscription's date, status or contents calls
 * `rebuildQueuedCharges(address)`, which creates, updates and deletes queued charges (keeping ids stable for an
 * unchanged date) and emits charge/created|updated|deleted. Skipped and processed charges are history and are
 * never touched here.
 */
export function rebuildQueuedCharges(state: SimState, addressId: number): void {
  const address = state.addresses.get(addressId)
  const wanted = new Map<string, LineItem[]>()
  if (address) {
    for (const subscription of state.subscriptions.ofCustomer(address.customer_id)) {
      if (subscription.address_id !== addressId || subscription.status !== 'active') continue
      const date = subscription.next_charge_scheduled_at
      if (!date) continue
      pushTo(wanted, date, subscriptionLineItem(state, subscription))
    }
    for (const onetime of state.onetimes.ofCustomer(address.customer_id)) {
      if (onetime.address_id !== addressId || onetime.is_cancelled) continue
      pushTo(wanted, onetime.next_charge_scheduled_at, onetimeLineItem(state, onetime))
    }
  }

  const existing = new Map<string, Charge>()
  for (const charge of chargesNear(state, addressId)) {
    if (charge.address_id === addressId && charge.status === 'queued') existing.set(charge.scheduled_at, charge)
  }

  for (const [date, items] of wanted) {
    const charge = existing.get(date)
    existing.delete(date)
    if (charge) {
      if (JSON.stringify(charge.line_items) === JSON.stringify(items)) continue
      charge.line_items = items
      applyTotals(state, charge)
      charge.updated_at = state.timestamp()
      state.emit('charge/updated', { charge })
    } else if (address) {
      const created = newCharge(state, address, date, items, 'queued', 'recurring')
      state.charges.set(created.id, created)
      state.emit('charge/created', { charge: created })
    }
  }
  for (const stale of existing.values()) {
    state.charges.delete(stale.id)
    state.emit('charge/deleted', { charge: { id: stale.id } })
  }
}

/** The charges that can be on this address: its customer's (index), or every charge when the address is gone. */
export function chargesNear(state: SimState, addressId: number): Iterable<Charge> {
  const address = state.addresses.get(addressId)
  return address ? state.charges.ofCustomer(address.customer_id) : state.charges.values()
}

export function queuedChargesFor(state: SimState, subscriptionId: number): Charge[] {
  return [...state.charges.values()].filter(
    (charge) =>
      charge.status === 'queued' &&
      charge.line_items.some(
        (item) => item.purchase_item_type === 'subscription' && item.purchase_item_id === subscriptionId,
      ),
  )
}

export function nextDate(subscription: Subscription, from: string): string {
  return addInterval(from, subscription.charge_interval_frequency, subscription.order_interval_unit)
}

export function subscriptionLineItem(state: SimState, subscription: Subscription): LineItem {
  const found = findVariant(
    state,
    subscription.external_product_id.ecommerce,
    subscription.external_variant_id.ecommerce,
  )
  const unit = state.minor(subscription.price) ?? 0
  const original = found ? (state.minor(found.variant.prices.unit_price) ?? unit) : unit
  return lineItem(state, {
    purchaseItemId: subscription.id,
    type: 'subscription',
    productId: subscription.external_product_id.ecommerce,
    variantId: subscription.external_variant_id.ecommerce,
    grams: found?.variant.weight.value ?? 0,
    images: imagesOf(found),
    original,
    unit,
    quantity: subscription.quantity,
    sku: subscription.sku ?? found?.variant.sku ?? null,
    title: subscription.product_title,
    variantTitle: subscription.variant_title,
    properties: subscription.properties,
  })
}

export function onetimeLineItem(state: SimState, onetime: Onetime): LineItem {
  const found = findVariant(state, onetime.external_product_id.ecommerce, onetime.external_variant_id.ecommerce)
  const unit = state.minor(onetime.price) ?? 0
  return lineItem(state, {
    purchaseItemId: onetime.id,
    type: 'onetime',
    productId: onetime.external_product_id.ecommerce,
    variantId: onetime.external_variant_id.ecommerce,
    grams: found?.variant.weight.value ?? 0,
    images: imagesOf(found),
    original: unit,
    unit,
    quantity: onetime.quantity,
    sku: onetime.sku,
    title: onetime.product_title,
    variantTitle: onetime.variant_title,
    properties: onetime.properties,
  })
}

interface LineItemInput {
  purchaseItemId: number | null
  type: 'subscription' | 'onetime'
  productId: string | null
  variantId: string | null
  grams: number
  images: LineItem['images']
  original: number
  unit: number
  quantity: number
  sku: string | null
  title: string
  variantTitle: string
  properties: LineItem['properties']
}

export function lineItem(state: SimState, input: LineItemInput): LineItem {
  const total = input.unit * input.quantity
  return {
    purchase_item_id: input.purchaseItemId,
    purchase_item_type: input.type,
    external_inventory_policy: 'decrement_obeying_policy',
    external_product_id: { ecommerce: input.productId },
    external_variant_id: { ecommerce: input.variantId },
    grams: input.grams,
    images: input.images,
    original_price: state.money(input.original),
    properties: input.properties.map((property) => ({ ...property })),
    quantity: input.quantity,
    sku: input.sku,
    tax_due: state.money(0),
    tax_lines: [],
    taxable: true,
    taxable_amount: state.money(total),
    title: input.title,
    total_price: state.money(total),
    unit_price: state.money(input.unit),
    unit_price_includes_tax: false,
    variant_title: input.variantTitle,
  }
}

export function newCharge(
  state: SimState,
  address: Address,
  scheduledAt: string,
  items: LineItem[],
  status: Charge['status'],
  type: Charge['type'],
): Charge {
  const customer = state.customers.get(address.customer_id) as Customer
  const now = state.timestamp()
  const charge: Charge = {
    id: state.nextId('charge', 310_000_001),
    address_id: address.id,
    analytics_data: { utm_params: [] },
    billing_address: postalOf(address),
    client_details: { browser_ip: null, user_agent: null },
    created_at: now,
    currency: state.options.currency,
    customer: state.customerRef(customer),
    discounts: type === 'recurring' ? addressDiscounts(state, address) : [],
    error: null,
    error_type: null,
    external_order_id: { ecommerce: null },
    external_transaction_id: { payment_processor: null },
    has_uncommitted_changes: false,
    line_items: items,
    note: null,
    order_attributes: [],
    orders_count: 0,
    payment_processor: 'stripe',
    processed_at: null,
    retry_date: null,
    scheduled_at: scheduledAt,
    shipping_address: postalOf(address),
    shipping_lines: [],
    status,
    subtotal_price: '',
    tags: type === 'checkout' ? 'Subscription First Order' : 'Subscription Recurring Order',
    tax_lines: [],
    taxable: true,
    total_discounts: state.money(0),
    total_duties: state.money(0),
    total_line_items_price: '',
    total_price: '',
    total_refunds: null,
    total_tax: state.money(0),
    total_weight_grams: 0,
    type,
    updated_at: now,
  }
  applyTotals(state, charge)
  return charge
}

/** Recomputes a charge's money fields from its line items, shipping lines and (by default) its discount. */
export function applyTotals(state: SimState, charge: Charge, discountMinor = discountMinorFor(state, charge)): void {
  let subtotal = 0
  let grams = 0
  for (const item of charge.line_items) {
    subtotal += (state.minor(item.unit_price) ?? 0) * item.quantity
    grams += item.grams * item.quantity
  }
  const shipping = charge.shipping_lines.reduce((sum, line) => sum + (state.minor(line.price) ?? 0), 0)
  charge.total_line_items_price = state.money(subtotal)
  charge.subtotal_price = state.money(subtotal - discountMinor)
  charge.total_discounts = state.money(discountMinor)
  charge.total_price = state.money(subtotal - discountMinor + shipping)
  charge.total_weight_grams = grams
}

function pushTo(map: Map<string, LineItem[]>, key: string, item: LineItem): void {
  const list = map.get(key)
  if (list) list.push(item)
  else map.set(key, [item])
}
