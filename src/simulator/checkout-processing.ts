import { randomBytes } from 'node:crypto'
import { parseMoney } from '../infra/money.ts'
import { discountOf, emptyPostal } from './checkout-rules.ts'
import { createCustomer } from './customer-rules.ts'
import { addInterval } from './dates.ts'
import { SimError } from './errors.ts'
import { orderFromCharge } from './orders.ts'
import { applyTotals, lineItem, newCharge, rebuildQueuedCharges } from './scheduling.ts'
import type { SimState } from './state.ts'
import { emitSubscription } from './subscription-rules.ts'
import type {
  Address,
  Charge,
  Checkout,
  Customer,
  LineItem,
  Order,
  PaymentMethod,
  PostalAddress,
  Subscription,
} from './types.ts'
import { customerView } from './views.ts'

type Body = Record<string, unknown>

/**
 * Charging a checkout, as Recharge's checkout processing does: the payment is checked (processor, token, a complete
 * checkout), magic tokens decline, and a successful payment becomes a customer (reused by email), a default card, an
 * address, subscriptions for the subscription lines, a processed charge and its order.
 */
export const PAYMENT_PROCESSORS = new Set(['stripe', 'braintree', 'authorize', 'adyen', 'mollie', 'checkout_com'])

/**
 * Magic payment tokens (like Stripe's test tokens). Any other token is accepted as a successful payment.
 * Each failing token answers 422 with the processor's message, and leaves the checkout chargeable.
 */
export const MAGIC_TOKENS: Record<string, string> = {
  tok_chargeDeclined: 'Your card was declined. decline_code = generic_decline',
  pm_card_chargeDeclined: 'Your card was declined. decline_code = generic_decline',
  tok_chargeDeclinedInsufficientFunds: 'Your card has insufficient funds.',
  pm_card_chargeDeclinedInsufficientFunds: 'Your card has insufficient funds.',
  tok_chargeDeclinedExpiredCard: 'Your card has expired.',
  tok_authenticationRequired: 'Your card was declined. This transaction requires authentication.',
  pm_card_authenticationRequired: 'Your card was declined. This transaction requires authentication.',
  tok_processingError: 'An error occurred while processing your card. Try again in a little bit.',
}

export function chargeOutcome(token: string): string | null {
  return MAGIC_TOKENS[token] ?? null
}

/** Validates that a checkout can be charged (before the processing delay starts). */
export function assertChargeable(
  checkout: Checkout,
  body: Body,
): { processor: string; token: string; paymentType: string } {
  if (checkout.completed_at) throw new SimError(422, { errors: 'Checkout has already been processed.' })
  const processor = body.payment_processor
  const token = body.payment_token
  const errors: Record<string, string[]> = {}
  if (typeof processor !== 'string' || !PAYMENT_PROCESSORS.has(processor)) {
    errors.payment_processor = [`Must be one of: ${[...PAYMENT_PROCESSORS].join(', ')}.`]
  }
  if (typeof token !== 'string' || token === '') errors.payment_token = ['Missing data for required field.']
  if (!checkout.email) errors.email = ['An email is required to process the checkout.']
  if (checkout.requires_shipping && !checkout.shipping_address)
    errors.shipping_address = ['A shipping address is required.']
  if (checkout.requires_shipping && !checkout.shipping_line)
    errors.shipping_line = ['A shipping rate must be selected.']
  if (Object.keys(errors).length > 0) throw new SimError(422, { errors })
  return {
    processor: processor as string,
    token: token as string,
    paymentType: typeof body.payment_type === 'string' ? body.payment_type : 'CREDIT_CARD',
  }
}

interface Payment {
  processor: string
  token: string
  paymentType: string
}

/** A successful payment: customer (reused by email), address, subscriptions, charge and order. */
export function processCheckout(state: SimState, checkout: Checkout, payment: Payment) {
  const now = state.timestamp()
  const email = checkout.email as string
  const shipping = checkout.shipping_address ?? checkout.billing_address ?? emptyPostal()
  const { customer, newCustomer, hadActive } = buyer(state, email, shipping)
  const paymentMethod = defaultPaymentMethod(state, checkout, customer, shipping, payment)
  customer.has_valid_payment_method = true
  customer.first_charge_processed_at ??= state.naiveTimestamp()
  customer.updated_at = state.naiveTimestamp()
  const address = shippingAddress(state, checkout, customer, shipping, paymentMethod.id, now)
  const today = state.today()
  const { subscriptions, items } = purchasedItems(state, checkout, customer, address, today, now)
  const { charge, order } = paidCharge(state, checkout, address, today, items, payment, now)

  rebuildQueuedCharges(state, address.id)
  for (const subscription of subscriptions) emitSubscription(state, 'subscription/created', subscription)
  state.emit('order/created', { order })

  checkout.completed_at = now
  checkout.charge_id = charge.id
  checkout.order_id = order.id
  checkout.payment_processor = payment.processor
  checkout.external_transaction_id = { ...charge.external_transaction_id }
  checkout.updated_at = now
  state.emit('checkout/processed', { checkout })
  if (!hadActive && subscriptions.length > 0)
    state.emit('customer/activated', () => ({ customer: customerView(state, customer) }))
  if (!newCustomer) state.emit('customer/updated', () => ({ customer: customerView(state, customer) }))

  return {
    checkout_charge: {
      charge_id: charge.id,
      checkout_token: checkout.token,
      customer_hash: customer.hash,
      customer_id: customer.id,
      email: customer.email,
      external_transaction_id: { ...charge.external_transaction_id },
      order_id: order.id,
      payment_processor: payment.processor,
      payment_processor_customer_token: paymentMethod.processor_customer_token,
      payment_processor_transaction_id: charge.external_transaction_id.payment_processor,
      processed_at: now,
      status: 'success',
      subscription_ids: subscriptions.map((subscription) => subscription.id),
      total_price: charge.total_price,
    },
  }
}

/** The customer with this email (case-insensitive), or a new one named from the shipping address. */
function buyer(state: SimState, email: string, shipping: PostalAddress) {
  let customer = state.customers.byEmail(email)[0]
  const newCustomer = !customer
  customer ??= createCustomer(state, {
    email,
    firstName: shipping.first_name ?? 'Shopper',
    lastName: shipping.last_name ?? 'Simulator',
    externalId: null,
  })
  const hadActive = state.subscriptions.ofCustomer(customer.id).some((sub) => sub.status === 'active')
  return { customer, newCustomer, hadActive }
}

/** The customer's default card, or a new one from this payment. */
function defaultPaymentMethod(
  state: SimState,
  checkout: Checkout,
  customer: Customer,
  shipping: PostalAddress,
  payment: Payment,
): PaymentMethod {
  let paymentMethod = state.paymentMethods.ofCustomer(customer.id).find((method) => method.default)
  if (!paymentMethod) {
    paymentMethod = {
      id: state.nextId('payment_method', 55_000_001),
      customer_id: customer.id,
      billing_address: { ...(checkout.billing_address ?? shipping), country: null },
      created_at: state.naiveTimestamp(),
      default: true,
      include: {},
      payment_details: { brand: 'visa', exp_month: 12, exp_year: 2031, last4: '4242' },
      payment_type: payment.paymentType,
      processor_customer_token: `cus_sim${randomBytes(7).toString('hex')}`,
      processor_name: payment.processor,
      processor_payment_method_token: payment.token,
      status: 'valid',
      status_reason: null,
      updated_at: state.naiveTimestamp(),
    }
    state.paymentMethods.set(paymentMethod.id, paymentMethod)
  }
  return paymentMethod
}

/** The customer's address at the shipping address (same street, zip and country), or a new one. */
function shippingAddress(
  state: SimState,
  checkout: Checkout,
  customer: Customer,
  shipping: PostalAddress,
  paymentMethodId: number,
  now: string,
): Address {
  const known = state.addresses.ofCustomer(customer.id)
  let address = known.find(
    (candidate) =>
      candidate.address1 === shipping.address1 &&
      candidate.zip === shipping.zip &&
      candidate.country_code === shipping.country_code,
  )
  if (!address) {
    const created: Address = {
      id: state.nextId('address', 92_000_001),
      customer_id: customer.id,
      payment_method_id: paymentMethodId,
      ...shipping,
      created_at: now,
      discounts: [],
      order_attributes: [...checkout.order_attributes],
      order_note: checkout.note,
      presentment_currency: checkout.currency,
      shipping_lines_override: [],
      updated_at: now,
    }
    state.addresses.set(created.id, created)
    state.emit('address/created', { address: created })
    address = created
  }
  return address
}

/** The charge's line items, with a new subscription for each subscription line. */
function purchasedItems(
  state: SimState,
  checkout: Checkout,
  customer: Customer,
  address: Address,
  today: string,
  now: string,
): { subscriptions: Subscription[]; items: LineItem[] } {
  const subscriptions: Subscription[] = []
  const items = checkout.line_items.map((line) => {
    let purchaseItemId: number | null = null
    if (line.purchase_item_type === 'subscription') {
      const unit = line.order_interval_unit ?? 'month'
      const subscription: Subscription = {
        id: state.nextId('subscription', 219_400_001),
        address_id: address.id,
        customer_id: customer.id,
        analytics_data: { utm_params: [...checkout.analytics_data.utm_params] },
        cancellation_reason: null,
        cancellation_reason_comments: null,
        cancelled_at: null,
        charge_interval_frequency: line.charge_interval_frequency ?? 1,
        created_at: now,
        expire_after_specific_number_of_charges: null,
        external_product_id: { ...line.external_product_id },
        external_variant_id: { ...line.external_variant_id },
        is_prepaid: (line.charge_interval_frequency ?? 1) !== (line.order_interval_frequency ?? 1),
        is_skippable: true,
        is_swappable: true,
        max_retries_reached: false,
        next_charge_scheduled_at: addInterval(today, line.charge_interval_frequency ?? 1, unit),
        order_day_of_month: null,
        order_day_of_week: null,
        order_interval_frequency: line.order_interval_frequency ?? 1,
        order_interval_unit: unit,
        presentment_currency: checkout.currency,
        price: line.unit_price,
        product_title: line.product_title,
        properties: line.properties.map((property) => ({ ...property })),
        quantity: line.quantity,
        sku: line.sku,
        sku_override: false,
        status: 'active',
        updated_at: now,
        variant_title: line.variant_title,
      }
      state.subscriptions.set(subscription.id, subscription)
      subscriptions.push(subscription)
      purchaseItemId = subscription.id
    }
    return lineItem(state, {
      purchaseItemId,
      type: line.purchase_item_type,
      productId: line.external_product_id.ecommerce,
      variantId: line.external_variant_id.ecommerce,
      grams: line.grams,
      images: { ...line.images },
      original: parseMoney(line.original_price, state.decimals) ?? 0,
      unit: parseMoney(line.unit_price, state.decimals) ?? 0,
      quantity: line.quantity,
      sku: line.sku,
      title: line.product_title,
      variantTitle: line.variant_title,
      properties: line.properties,
    })
  })
  return { subscriptions, items }
}

/** The processed charge (shipping, discount and totals of the checkout) and the order it made. */
function paidCharge(
  state: SimState,
  checkout: Checkout,
  address: Address,
  today: string,
  items: LineItem[],
  payment: Payment,
  now: string,
): { charge: Charge; order: Order } {
  const charge: Charge = newCharge(state, address, today, items, 'success', 'checkout')
  if (checkout.shipping_line) {
    const rate = checkout.shipping_line
    charge.shipping_lines = [
      { code: rate.code, price: rate.price, source: rate.source, taxable: false, tax_lines: [], title: rate.title },
    ]
  }
  const discountMinor = discountOf(state, checkout)
  if (checkout.applied_discount)
    charge.discounts = [
      {
        code: checkout.applied_discount.code,
        value: checkout.applied_discount.value,
        value_type: checkout.applied_discount.value_type,
      },
    ]
  applyTotals(state, charge, discountMinor)
  charge.processed_at = now
  charge.orders_count = 1
  charge.payment_processor = payment.processor
  charge.external_transaction_id = { payment_processor: `ch_sim${randomBytes(10).toString('hex')}` }
  charge.external_order_id = { ecommerce: String(5_100_000_000 + charge.id) }
  charge.note = checkout.note
  state.charges.set(charge.id, charge)
  const order = orderFromCharge(state, charge)
  state.orders.set(order.id, order)
  return { charge, order }
}
