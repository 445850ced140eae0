import { applyPercentage } from '../infra/money.ts'
import { findVariant, variantPriceMinor } from './catalog.ts'
import { addDays, addInterval, dateOnly, isoNaive, isoOffset } from './dates.ts'
import { orderFromCharge } from './orders.ts'
import { SeededRandom } from './random.ts'
import { newCharge, rebuildQueuedCharges, subscriptionLineItem } from './scheduling.ts'
import type { SimState } from './state.ts'
import type { Address, Customer, PaymentMethod, Plan, Subscription } from './types.ts'

/**
 * The seeded shopper in dunning, so payment recovery can be shown: frank@example.com (external id `7001006`) has one
 * monthly Morning Ritual subscription whose last charge failed. Recharge's fields for that state:
 * - the charge is `status: "error"` with `error_type: "CUSTOMER_NEEDS_TO_UPDATE_CARD"`, the processor's `error`
 *   sentence and a `retry_date` (the storefront SDK's Charge type documents these three);
 * - the customer has `has_payment_method_in_dunning: true` and `has_valid_payment_method: false`;
 * - the card is expired and the payment method is `status: "invalid"` with a `status_reason`.
 * The subscription has moved on to its next date, which has its QUEUED charge as usual. Deterministic for a
 * SIM_SEED (its own random stream, so the other seeded records keep their values).
 */
export const DUNNING_SHOPPER_EMAIL = 'frank@example.com'

const FAILED_DAYS_AGO = 2
const RETRY_IN_DAYS = 3

export function seedDunningShopper(state: SimState): void {
  const random = new SeededRandom(`${state.options.seed}:dunning`)
  const now = state.now()
  const today = dateOnly(now)
  const created = now - 200 * 86_400_000
  const customer: Customer = {
    id: state.nextId('customer', 82_940_001),
    analytics_data: { utm_params: [] },
    created_at: isoNaive(created),
    email: DUNNING_SHOPPER_EMAIL,
    external_customer_id: { ecommerce: '7001006' },
    first_charge_processed_at: isoNaive(created),
    first_name: 'Frank',
    has_payment_method_in_dunning: true,
    has_valid_payment_method: false,
    hash: random.hex(30),
    last_name: 'Fischer',
    phone: null,
    updated_at: isoNaive(now - FAILED_DAYS_AGO * 86_400_000),
  }
  state.customers.set(customer.id, customer)

  const expired = new Date(now)
  expired.setUTCMonth(expired.getUTCMonth() - 1)
  const method: PaymentMethod = {
    id: state.nextId('payment_method', 55_000_001),
    customer_id: customer.id,
    billing_address: {
      address1: '12 Pearl Street',
      address2: null,
      city: 'Denver',
      company: null,
      country: 'United States',
      country_code: 'US',
      first_name: 'Frank',
      last_name: 'Fischer',
      phone: null,
      province: 'Colorado',
      zip: '80203',
    },
    created_at: isoNaive(created),
    default: true,
    include: {},
    payment_details: {
      brand: 'visa',
      exp_month: expired.getUTCMonth() + 1,
      exp_year: expired.getUTCFullYear(),
      last4: String(random.int(1000, 9999)),
    },
    payment_type: 'CREDIT_CARD',
    processor_customer_token: `cus_sim${random.hex(14)}`,
    processor_name: 'stripe',
    processor_payment_method_token: `pm_sim${random.hex(14)}`,
    status: 'invalid',
    status_reason: 'Your card has expired.',
    updated_at: isoNaive(now - FAILED_DAYS_AGO * 86_400_000),
  }
  state.paymentMethods.set(method.id, method)

  const address: Address = {
    id: state.nextId('address', 92_000_001),
    customer_id: customer.id,
    payment_method_id: method.id,
    address1: '12 Pearl Street',
    address2: null,
    city: 'Denver',
    company: null,
    country_code: 'US',
    created_at: isoOffset(created),
    discounts: [],
    first_name: 'Frank',
    last_name: 'Fischer',
    order_attributes: [],
    order_note: null,
    phone: `555${String(random.int(1_000_000, 9_999_999))}`,
    presentment_currency: state.options.currency,
    province: 'Colorado',
    shipping_lines_override: [],
    updated_at: isoOffset(created),
    zip: '80203',
  }
  state.addresses.set(address.id, address)

  const found = findVariant(state, '7100000001', '7200000011')
  const plan = [...state.plans.values()].find(
    (candidate) => candidate.external_product_id.ecommerce === '7100000001' && candidate.title === 'Every month',
  ) as Plan
  if (!found || !plan.subscription_preferences) return
  const failedOn = addDays(today, -FAILED_DAYS_AGO)
  const subscription: Subscription = {
    id: state.nextId('subscription', 219_400_001),
    address_id: address.id,
    customer_id: customer.id,
    analytics_data: { utm_params: [] },
    cancellation_reason: null,
    cancellation_reason_comments: null,
    cancelled_at: null,
    charge_interval_frequency: plan.subscription_preferences.charge_interval_frequency,
    created_at: isoOffset(created),
    expire_after_specific_number_of_charges: null,
    external_product_id: { ecommerce: found.product.external_product_id },
    external_variant_id: { ecommerce: found.variant.external_variant_id },
    is_prepaid: false,
    is_skippable: true,
    is_swappable: true,
    max_retries_reached: false,
    next_charge_scheduled_at: addInterval(failedOn, 1, 'month'),
    order_day_of_month: null,
    order_day_of_week: null,
    order_interval_frequency: plan.subscription_preferences.order_interval_frequency,
    order_interval_unit: plan.subscription_preferences.interval_unit,
    presentment_currency: state.options.currency,
    price: state.money(applyPercentage(variantPriceMinor(state, found.variant), Number(plan.discount_amount ?? 0))),
    product_title: found.product.title,
    properties: [],
    quantity: 1,
    sku: null,
    sku_override: false,
    status: 'active',
    updated_at: isoOffset(now - FAILED_DAYS_AGO * 86_400_000),
    variant_title: found.variant.title,
  }
  state.subscriptions.set(subscription.id, subscription)

  // Last month's charge succeeded (with its order); this month's failed and waits for its retry.
  const paidOn = addInterval(failedOn, -1, 'month')
  const paid = newCharge(state, address, paidOn, [subscriptionLineItem(state, subscription)], 'success', 'recurring')
  const paidAt = Date.parse(`${paidOn}T09:00:00Z`)
  paid.processed_at = isoOffset(paidAt)
  paid.created_at = isoOffset(paidAt - 3 * 86_400_000)
  paid.updated_at = isoOffset(paidAt)
  paid.orders_count = 1
  paid.external_transaction_id = { payment_processor: `ch_sim${random.hex(20)}` }
  paid.external_order_id = { ecommerce: String(5_100_000_000 + paid.id) }
  state.charges.set(paid.id, paid)
  const order = orderFromCharge(state, paid)
  state.orders.set(order.id, order)

  const failed = newCharge(state, address, failedOn, [subscriptionLineItem(state, subscription)], 'error', 'recurring')
  const failedAt = Date.parse(`${failedOn}T09:00:00Z`)
  failed.created_at = isoOffset(failedAt - 3 * 86_400_000)
  failed.updated_at = isoOffset(failedAt)
  failed.error = 'Customer needs to update credit card'
  failed.error_type = 'CUSTOMER_NEEDS_TO_UPDATE_CARD'
  failed.retry_date = isoOffset(Date.parse(`${addDays(today, RETRY_IN_DAYS)}T09:00:00Z`))
  state.charges.set(failed.id, failed)

  rebuildQueuedCharges(state, address.id)
}
