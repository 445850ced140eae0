import type { IntervalUnit } from './dates.ts'

/**
 * Stored records, already in Recharge 2021-11 wire shape (snake_case, money as strings, external ids as
 * `{"ecommerce": "…"}`). Fields derived from other records (counts, `has_queued_charges`) are filled in by views.ts
 * when a record is rendered.
 */
export interface ExternalId {
  ecommerce: string | null
}

export interface NameValue {
  name: string
  value: string
}

export interface Customer {
  id: number
  analytics_data: { utm_params: unknown[] }
  created_at: string
  email: string
  external_customer_id: ExternalId
  first_charge_processed_at: string | null
  first_name: string
  has_payment_method_in_dunning: boolean
  has_valid_payment_method: boolean
  hash: string
  last_name: string
  /** Absent on records created before phone was kept; rendered as null. */
  phone?: string | null
  updated_at: string
}

export interface PostalAddress {
  address1: string | null
  address2: string | null
  city: string | null
  company: string | null
  country_code: string | null
  first_name: string | null
  last_name: string | null
  phone: string | null
  province: string | null
  zip: string | null
}

export interface Address extends PostalAddress {
  id: number
  customer_id: number
  payment_method_id: number | null
  created_at: string
  discounts: { id: number }[]
  order_attributes: NameValue[]
  order_note: string | null
  presentment_currency: string | null
  shipping_lines_override: unknown[]
  updated_at: string
}

export interface PaymentMethod {
  id: number
  customer_id: number
  billing_address: PostalAddress & { country: string | null }
  created_at: string
  default: boolean | null
  include: Record<string, unknown>
  payment_details: { brand?: string; exp_month?: number; exp_year?: number; last4?: string }
  payment_type: string | null
  processor_customer_token: string | null
  processor_name: string
  processor_payment_method_token: string | null
  status: string | null
  status_reason: string | null
  updated_at: string
}

export type SubscriptionStatus = 'active' | 'cancelled' | 'expired'

export interface Subscription {
  id: number
  address_id: number
  customer_id: number
  analytics_data: { utm_params: unknown[] }
  cancellation_reason: string | null
  cancellation_reason_comments: string | null
  cancelled_at: string | null
  charge_interval_frequency: number
  created_at: string
  expire_after_specific_number_of_charges: number | null
  external_product_id: ExternalId
  external_variant_id: ExternalId
  is_prepaid: boolean
  is_skippable: boolean
  is_swappable: boolean
  max_retries_reached: boolean
  next_charge_scheduled_at: string | null
  order_day_of_month: number | null
  order_day_of_week: number | null
  order_interval_frequency: number
  order_interval_unit: IntervalUnit
  presentment_currency: string | null
  price: string
  product_title: string
  properties: NameValue[]
  quantity: number
  sku: string | null
  sku_override: boolean
  status: SubscriptionStatus
  updated_at: string
  variant_title: string
}

export interface Onetime {
  id: number
  address_id: number
  customer_id: number
  created_at: string
  external_product_id: ExternalId
  external_variant_id: ExternalId
  is_cancelled: boolean
  next_charge_scheduled_at: string
  /** The currency the shopper pays in (the store's, in this simulator). */
  presentment_currency: string
  price: string
  product_title: string
  properties: NameValue[]
  quantity: number
  sku: string | null
  sku_override: boolean
  updated_at: string
  variant_title: string
}

export interface Images {
  large: string | null
  medium: string | null
  original: string | null
  small: string | null
}

export interface LineItem {
  purchase_item_id: number | null
  purchase_item_type: 'subscription' | 'onetime'
  external_inventory_policy: string
  external_product_id: ExternalId
  external_variant_id: ExternalId
  grams: number
  images: Images
  original_price: string
  properties: NameValue[]
  quantity: number
  sku: string | null
  tax_due: string
  tax_lines: unknown[]
  taxable: boolean
  taxable_amount: string
  title: string
  total_price: string
  unit_price: string
  unit_price_includes_tax: boolean
  variant_title: string
}

export type ChargeStatus = 'queued' | 'success' | 'skipped' | 'error' | 'refunded'

export interface ShippingLine {
  code: string
  price: string
  source: string
  taxable: boolean
  tax_lines: unknown[]
  title: string
}

export interface CustomerRef {
  id: number
  email: string
  external_customer_id: ExternalId
  hash: string
}

export interface Charge {
  id: number
  address_id: number
  analytics_data: { utm_params: unknown[] }
  billing_address: PostalAddress
  client_details: { browser_ip: string | null; user_agent: string | null }
  created_at: string
  currency: string
  customer: CustomerRef
  discounts: unknown[]
  error: string | null
  error_type: string | null
  external_order_id: ExternalId
  external_transaction_id: { payment_processor: string | null }
  has_uncommitted_changes: boolean
  line_items: LineItem[]
  note: string | null
  order_attributes: NameValue[]
  orders_count: number
  payment_processor: string
  processed_at: string | null
  retry_date: string | null
  scheduled_at: string
  shipping_address: PostalAddress
  shipping_lines: ShippingLine[]
  status: ChargeStatus
  subtotal_price: string
  tags: string
  tax_lines: unknown[]
  taxable: boolean
  total_discounts: string
  total_duties: string
  total_line_items_price: string
  total_price: string
  total_refunds: string | null
  total_tax: string
  total_weight_grams: number
  type: 'checkout' | 'recurring'
  updated_at: string
}

export interface Order {
  id: number
  address_id: number
  billing_address: PostalAddress
  charge: { id: number; external_transaction_id: { payment_processor: string | null } }
  client_details: { browser_ip: string | null; user_agent: string | null }
  created_at: string
  currency: string
  customer: CustomerRef
  discounts: unknown[]
  error: string | null
  external_cart_token: string | null
  external_order_id: ExternalId
  external_order_number: ExternalId
  is_prepaid: boolean
  line_items: LineItem[]
  note: string | null
  order_attributes: NameValue[]
  processed_at: string | null
  scheduled_at: string
  shipping_address: PostalAddress
  shipping_lines: ShippingLine[]
  status: 'success' | 'error' | 'queued' | 'cancelled'
  subtotal_price: string
  tags: string
  tax_lines: unknown[]
  taxable: boolean
  total_discounts: string
  total_duties: string
  total_line_items_price: string
  total_price: string
  total_refunds: string
  total_tax: string
  total_weight_grams: number
  type: 'checkout' | 'recurring'
  updated_at: string
}

export interface ProductVariant {
  dimensions: { height: number | null; length: number | null; unit: string; width: number | null }
  external_variant_id: string
  fulfillment_service: string
  image: Images
  option_values: { label: string }[]
  prices: { compare_at_price: string | null; unit_price: string }
  requires_shipping: boolean
  sku: string | null
  tax_code: string | null
  taxable: boolean
  title: string
  weight: { unit: string; value: number }
}

export interface Product {
  brand: string | null
  created_at: string
  description: string | null
  external_created_at: string
  external_product_id: string
  external_updated_at: string
  images: (Images & { sort_order: number })[]
  options: { name: string; position: number; values: { label: string; position: number }[] }[]
  published_at: string | null
  requires_shipping: boolean
  title: string
  updated_at: string
  variants: ProductVariant[]
  vendor: string | null
}

export type PlanType = 'subscription' | 'prepaid' | 'onetime'

export interface Plan {
  id: number
  channel_settings: Record<'api' | 'checkout_page' | 'customer_portal' | 'merchant_portal', { display: boolean }>
  created_at: string
  deleted_at: string | null
  discount_amount: string | null
  discount_type: 'percentage' | 'fixed_amount' | null
  external_product_id: ExternalId
  external_variant_ids: string[]
  has_variant_restrictions: boolean
  sort_order: number
  subscription_preferences: {
    apply_cutoff_date_to_checkout: boolean
    charge_interval_frequency: number
    cutoff_day_of_month: number | null
    cutoff_day_of_week: number | null
    expire_after_specific_number_of_charges: number | null
    interval_unit: IntervalUnit
    order_day_of_month: number | null
    order_day_of_week: number | null
    order_interval_frequency: number
  } | null
  title: string
  type: PlanType
  updated_at: string
}

export interface Webhook {
  id: number
  address: string
  included_objects: string[]
  topic: string
  version: string
}

export interface AsyncBatchTask {
  id: number
  batch_id: number
  body: Record<string, unknown>
  created_at: string
  result: { status_code: number; output: unknown } | null
  updated_at: string
}

export interface AsyncBatch {
  id: number
  batch_type: string
  closed_at: string | null
  created_at: string
  fail_task_count: number
  status: 'not_started' | 'processing' | 'completed' | 'failed'
  submitted_at: string | null
  success_task_count: number
  total_task_count: number
  updated_at: string
  version: string
}

export interface CheckoutLineItem {
  charge_interval_frequency: number | null
  external_product_id: ExternalId
  external_variant_id: ExternalId
  grams: number
  images: Images
  order_interval_frequency: number | null
  order_interval_unit: IntervalUnit | null
  original_price: string
  /** Same value as `unit_price`; the name older checkout answers use. */
  price: string
  product_title: string
  properties: NameValue[]
  purchase_item_type: 'subscription' | 'onetime'
  quantity: number
  requires_shipping: boolean
  sku: string | null
  tax_lines: unknown[]
  taxable: boolean
  title: string
  total_price: string
  /** The price one unit is charged at: the client's `unit_price` (or `price`) when sent, else the catalog's. */
  unit_price: string
  variant_title: string
}

export interface ShippingRate {
  code: string
  handle: string
  price: string
  source: string
  title: string
}

export interface Checkout {
  token: string
  analytics_data: { utm_params: unknown[] }
  applied_discount: { code: string; value: string; value_type: 'percentage' | 'fixed_amount' } | null
  billing_address: PostalAddress | null
  buyer_accepts_marketing: boolean
  charge_id: number | null
  completed_at: string | null
  created_at: string
  currency: string
  discount_code: string | null
  email: string | null
  external_checkout_id: string | null
  external_checkout_source: string | null
  external_transaction_id: { payment_processor: string | null }
  line_items: CheckoutLineItem[]
  note: string | null
  order_attributes: NameValue[]
  /** The order created by processing this checkout (null until processed). */
  order_id: number | null
  payment_processor: string | null
  phone: string | null
  requires_shipping: boolean
  shipping_address: PostalAddress | null
  shipping_line: ShippingRate | null
  subtotal_price: string
  tax_lines: unknown[]
  taxes_included: boolean
  total_price: string
  total_tax: string
  updated_at: string
}

export interface Store {
  id: number
  checkout_logo_url: string | null
  checkout_platform: string
  created_at: string
  currency: string
  customer_portal_domain: string
  disabled_currencies_historical: string[]
  domain: string
  email: string
  enabled_presentment_currencies: string[]
  enabled_presentment_currencies_symbols: { currency: string; location: string; suffix: string; symbol: string }[]
  external_platform: string
  iana_timezone: string
  merchant_portal_domain: string
  name: string
  phone: string | null
  platform: string
  subdomain: string
  timezone: string
  updated_at: string
  weight_unit: string
}

export interface Discount {
  code: string
  value: string
  value_type: 'percentage' | 'fixed_amount'
}

/** An email Recharge was asked to send (`POST /customers/{id}/notifications`); listed by `GET /__sim/notifications`. */
export interface SentNotification {
  id: number
  customer_id: number
  email: string
  type: 'email'
  template_type: string
  template_vars: Record<string, unknown>
  sent_at: string
}
