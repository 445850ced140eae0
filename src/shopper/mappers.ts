import type { z } from 'zod'
import type { Address } from '../recharge/schemas/addresses.ts'
import type { Charge } from '../recharge/schemas/charges.ts'
import type { Customer } from '../recharge/schemas/customers.ts'
import type { Order } from '../recharge/schemas/orders.ts'
import type { Subscription } from '../recharge/schemas/subscriptions.ts'
import type {
  addressSchema,
  chargeSchema,
  customerSchema,
  lineItemSchema,
  orderSchema,
  subscriptionSchema,
} from './schemas.ts'

/**
 * Upstream records → the public shapes of schemas.ts. Each mapper names every field it emits (no spreading of
 * upstream objects), so nothing Recharge adds later reaches a storefront by accident.
 */
export type PublicCustomer = z.input<typeof customerSchema>
export type PublicSubscription = z.input<typeof subscriptionSchema>
export type PublicCharge = z.input<typeof chargeSchema>
export type PublicOrder = z.input<typeof orderSchema>
export type PublicAddress = z.input<typeof addressSchema>
type PublicLineItem = z.input<typeof lineItemSchema>

export function publicCustomer(customer: Customer): PublicCustomer {
  return {
    id: customer.id,
    email: customer.email,
    first_name: customer.first_name,
    last_name: customer.last_name,
    phone: customer.phone,
    external_customer_id: customer.external_customer_id,
    has_valid_payment_method: customer.has_valid_payment_method,
    has_payment_method_in_dunning: customer.has_payment_method_in_dunning,
    created_at: customer.created_at,
  }
}

export function publicSubscription(
  subscription: Subscription,
  allowedActions: PublicSubscription['allowed_actions'],
  pausedUntil: string | null = null,
): PublicSubscription {
  const unit = subscription.order_interval_unit
  const every = subscription.order_interval_frequency
  return {
    id: subscription.id,
    address_id: subscription.address_id,
    status: subscription.status,
    product_title: subscription.product_title,
    variant_title: subscription.variant_title,
    external_product_id: subscription.external_product_id,
    external_variant_id: subscription.external_variant_id,
    quantity: subscription.quantity,
    price: subscription.price,
    currency: subscription.presentment_currency,
    next_charge_date: subscription.status === 'active' ? subscription.next_charge_scheduled_at : null,
    frequency: unit && every ? { unit, every, charge_every: subscription.charge_interval_frequency ?? every } : null,
    is_prepaid: subscription.is_prepaid ?? false,
    cancelled_at: subscription.cancelled_at,
    cancellation_reason: subscription.cancellation_reason,
    paused_until: pausedUntil,
    allowed_actions: allowedActions,
  }
}

function publicLineItem(item: Charge['line_items'][number]): PublicLineItem {
  return {
    subscription_id: item.purchase_item_type === 'subscription' ? item.purchase_item_id : null,
    title: item.title,
    variant_title: item.variant_title,
    external_product_id: item.external_product_id,
    external_variant_id: item.external_variant_id,
    quantity: item.quantity,
    unit_price: item.unit_price,
    total_price: item.total_price,
  }
}

export function publicCharge(charge: Charge): PublicCharge {
  return {
    id: charge.id,
    address_id: charge.address_id,
    status: charge.status,
    scheduled_at: charge.scheduled_at,
    currency: charge.currency,
    subtotal_price: charge.subtotal_price,
    total_price: charge.total_price,
    line_items: charge.line_items.map(publicLineItem),
  }
}

export function publicOrder(order: Order): PublicOrder {
  return {
    id: order.id,
    charge_id: order.charge?.id ?? null,
    status: order.status,
    external_order_number: order.external_order_number,
    processed_at: order.processed_at ?? order.created_at,
    currency: order.currency,
    subtotal_price: order.subtotal_price,
    total_price: order.total_price,
    line_items: order.line_items.map(publicLineItem),
  }
}

export function publicAddress(address: Address): PublicAddress {
  return { id: address.id, ...publicAddressFields(address) }
}

/** The postal fields of an address, an order's shipping address or a billing address. */
export function publicAddressFields(address: Omit<Address, 'id' | 'payment_method_id'>): Omit<PublicAddress, 'id'> {
  return {
    first_name: address.first_name,
    last_name: address.last_name,
    company: address.company,
    address1: address.address1,
    address2: address.address2,
    city: address.city,
    province: address.province,
    zip: address.zip,
    country_code: address.country_code,
    phone: address.phone,
  }
}
