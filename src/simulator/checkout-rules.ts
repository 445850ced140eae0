import { randomBytes } from 'node:crypto'
import { applyPercentage, parseMoney } from '../infra/money.ts'
import { findVariant, imagesOf, readExternalId, variantPriceMinor } from './catalog.ts'
import { createCustomer } from './customer-rules.ts'
import { addInterval } from './dates.ts'
import { fieldError, SimError, unprocessable } from './errors.ts'
import { orderFromCharge } from './orders.ts'
import { readPostal } from './postal.ts'
import { applyTotals, lineItem, newCharge, rebuildQueuedCharges } from './scheduling.ts'
import type { SimState } from './state.ts'
import { emitSubscription, readFrequency, readQuantity, readUnit } from './subscription-rules.ts'
import type { Address, Charge, Checkout, CheckoutLineItem, PostalAddress, ShippingRate, Subscription } from './types.ts'
import { customerView } from './views.ts'

type Body = Record<string, unknown>

/**
 * The Checkouts API: build a checkout from line items (catalog prices unless a `unit_price` is given, plan discounts for
 * subscription lines), apply address / shipping rate / discount updates, and turn a paid checkout into a customer,
 * address, subscriptions, a charge and an order, as Recharge's checkout processing does.
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

export function createCheckout(state: SimState, body: Body): Checkout {
  const lines = readLines(state, body.line_items)
  const now = state.timestamp()
  const checkout: Checkout = {
    token: randomBytes(16).toString('hex'),
    analytics_data: {
      utm_params: Array.isArray((body.analytics_data as Body | undefined)?.utm_params)
        ? ((body.analytics_data as Body).utm_params as unknown[])
        : [],
    },
    applied_discount: null,
    billing_address: null,
    buyer_accepts_marketing: body.buyer_accepts_marketing === true,
    charge_id: null,
    completed_at: null,
    created_at: now,
    currency: state.options.currency,
    discount_code: null,
    email: null,
    external_checkout_id: typeof body.external_checkout_id === 'string' ? body.external_checkout_id : null,
    external_checkout_source: typeof body.external_checkout_source === 'string' ? body.external_checkout_source : null,
    external_transaction_id: { payment_processor: null },
    line_items: lines,
    note: typeof body.note === 'string' ? body.note : null,
    order_attributes: Array.isArray(body.order_attributes)
      ? (body.order_attributes as Checkout['order_attributes'])
      : [],
    order_id: null,
    payment_processor: null,
    phone: null,
    requires_shipping: lines.some((line) => line.requires_shipping),
    shipping_address: null,
    shipping_line: null,
    subtotal_price: '',
    tax_lines: [],
    taxes_included: false,
    total_price: '',
    total_tax: state.money(0),
    updated_at: now,
  }
  applyCheckoutUpdate(state, checkout, body, true)
  return checkout
}

export function applyCheckoutUpdate(state: SimState, checkout: Checkout, body: Body, creating = false): void {
  if (checkout.completed_at) throw new SimError(422, { errors: 'Checkout has already been processed.' })
  if (!creating && body.line_items !== undefined) {
    checkout.line_items = readLines(state, body.line_items)
    checkout.requires_shipping = checkout.line_items.some((line) => line.requires_shipping)
  }
  if (body.email !== undefined) {
    if (body.email !== null && (typeof body.email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(body.email))) {
      throw fieldError('email', 'Not a valid email address.')
    }
    checkout.email = body.email as string | null
  }
  if (typeof body.phone === 'string' || body.phone === null) checkout.phone = body.phone as string | null
  if (typeof body.note === 'string') checkout.note = body.note
  if (typeof body.buyer_accepts_marketing === 'boolean') checkout.buyer_accepts_marketing = body.buyer_accepts_marketing
  if (body.shipping_address !== undefined) {
    checkout.shipping_address =
      body.shipping_address === null ? null : readAddressBody(body.shipping_address, 'shipping_address')
    checkout.shipping_line = null // rates depend on the address
  }
  if (body.billing_address !== undefined) {
    checkout.billing_address =
      body.billing_address === null ? null : readAddressBody(body.billing_address, 'billing_address')
  }
  const rateHandle = readHandle(body.shipping_line) ?? readHandle(body.applied_shipping_rate)
  if (rateHandle !== null) {
    if (!checkout.shipping_address)
      throw fieldError('shipping_line', 'A shipping address is required before choosing a shipping rate.')
    const rate = shippingRates(state, checkout).find(
      (candidate) => candidate.handle === rateHandle || candidate.code === rateHandle,
    )
    if (!rate) throw fieldError('shipping_line', `Unknown shipping rate: ${rateHandle}`)
    checkout.shipping_line = rate
  }
  const code = body.discount_code !== undefined ? body.discount_code : readAppliedDiscount(body.applied_discounts)
  if (code !== undefined) {
    if (code === null || code === '') {
      checkout.discount_code = null
      checkout.applied_discount = null
    } else {
      const discount = state.discounts.get(String(code).toUpperCase())
      if (!discount) throw fieldError('discount_code', `Discount code ${String(code)} is invalid.`)
      checkout.discount_code = discount.code
      checkout.applied_discount = { code: discount.code, value: discount.value, value_type: discount.value_type }
    }
  }
  applyCheckoutTotals(state, checkout)
  checkout.updated_at = state.timestamp()
}

export function shippingRates(state: SimState, checkout: Checkout): ShippingRate[] {
  if (!checkout.shipping_address)
    throw fieldError('shipping_address', 'A shipping address is required to calculate shipping rates.')
  const price = (cents: number) => state.money(state.decimals === 2 ? cents : Math.round((cents * 1.5) / 10) * 10)
  return [
    {
      code: 'Standard',
      handle: 'simulator-standard-5',
      price: price(500),
      source: 'recharge',
      title: 'Standard Shipping (3–5 days)',
    },
    {
      code: 'Express',
      handle: 'simulator-express-15',
      price: price(1500),
      source: 'recharge',
      title: 'Express Shipping (1–2 days)',
    },
  ]
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

/** A successful payment: customer (reused by email), address, subscriptions, charge and order. */
export function processCheckout(
  state: SimState,
  checkout: Checkout,
  payment: { processor: string; token: string; paymentType: string },
) {
  const now = state.timestamp()
  const email = checkout.email as string
  const shipping = checkout.shipping_address ?? checkout.billing_address ?? emptyPostal()
  let customer = [...state.customers.values()].find(
    (candidate) => candidate.email.toLowerCase() === email.toLowerCase(),
  )
  const newCustomer = !customer
  customer ??= createCustomer(state, {
    email,
    firstName: shipping.first_name ?? 'Shopper',
    lastName: shipping.last_name ?? 'Simulator',
    externalId: null,
  })
  const hadActive = [...state.subscriptions.values()].some(
    (sub) => sub.customer_id === customer.id && sub.status === 'active',
  )

  let paymentMethod = [...state.paymentMethods.values()].find(
    (method) => method.customer_id === customer.id && method.default,
  )
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
  customer.has_valid_payment_method = true
  customer.first_charge_processed_at ??= state.naiveTimestamp()
  customer.updated_at = state.naiveTimestamp()

  let address = [...state.addresses.values()].find(
    (candidate) =>
      candidate.customer_id === customer.id &&
      candidate.address1 === shipping.address1 &&
      candidate.zip === shipping.zip &&
      candidate.country_code === shipping.country_code,
  )
  if (!address) {
    const created: Address = {
      id: state.nextId('address', 92_000_001),
      customer_id: customer.id,
      payment_method_id: paymentMethod.id,
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

  const today = state.today()
  const subscriptions: Subscription[] = []
  const items = checkout.line_items.map((line) => {
    let purchaseItemId: number | null = null
    if (line.purchase_item_type === 'subscription') {
      const unit = line.order_interval_unit ?? 'month'
      const subscription: Subscription = {
        id: state.nextId('subscription', 219_400_001),
        address_id: (address as Address).id,
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

function subtotalOf(state: SimState, checkout: Checkout): number {
  return checkout.line_items.reduce(
    (sum, line) => sum + (parseMoney(line.unit_price, state.decimals) ?? 0) * line.quantity,
    0,
  )
}

function applyCheckoutTotals(state: SimState, checkout: Checkout): void {
  const subtotal = subtotalOf(state, checkout)
  const shipping = checkout.shipping_line ? (parseMoney(checkout.shipping_line.price, state.decimals) ?? 0) : 0
  const discount = discountOf(state, checkout, subtotal)
  checkout.subtotal_price = state.money(subtotal)
  checkout.total_price = state.money(subtotal - discount + shipping)
}

export function discountOf(state: SimState, checkout: Checkout, subtotalMinor?: number): number {
  const discount = checkout.applied_discount
  if (!discount) return 0
  const subtotal = subtotalMinor ?? subtotalOf(state, checkout)
  if (discount.value_type === 'percentage') return subtotal - applyPercentage(subtotal, Number(discount.value))
  return Math.min(subtotal, parseMoney(discount.value, state.decimals) ?? 0)
}

function readLines(state: SimState, value: unknown): CheckoutLineItem[] {
  if (!Array.isArray(value) || value.length === 0) throw fieldError('line_items', 'Missing data for required field.')
  const errors: Record<string, Record<string, string[]>> = {}
  const lines: CheckoutLineItem[] = []
  value.forEach((raw, index) => {
    const line = (raw && typeof raw === 'object' ? raw : {}) as Body
    const problems: Record<string, string[]> = {}
    const found = findVariant(state, readExternalId(line.external_product_id), readExternalId(line.external_variant_id))
    if (!found)
      problems.external_variant_id = ['No product variant with this external_product_id / external_variant_id.']
    let quantity = 1
    try {
      quantity = readQuantity(line.quantity ?? 1)
    } catch {
      problems.quantity = ['Must be greater than or equal to 1.']
    }
    const preferences = (
      line.subscription_preferences && typeof line.subscription_preferences === 'object'
        ? line.subscription_preferences
        : {}
    ) as Body
    const chargeEvery = line.charge_interval_frequency ?? preferences.charge_interval_frequency
    const orderEvery = line.order_interval_frequency ?? preferences.order_interval_frequency ?? chargeEvery
    const unitValue =
      line.order_interval_unit ?? line.interval_unit ?? preferences.interval_unit ?? preferences.order_interval_unit
    const type =
      line.purchase_item_type === 'onetime'
        ? 'onetime'
        : chargeEvery != null || line.purchase_item_type === 'subscription'
          ? 'subscription'
          : 'onetime'
    let interval: { charge: number; order: number; unit: ReturnType<typeof readUnit> } | null = null
    if (type === 'subscription') {
      try {
        interval = {
          charge: readFrequency(chargeEvery, 'charge_interval_frequency'),
          order: readFrequency(orderEvery, 'order_interval_frequency'),
          unit: readUnit(unitValue, 'order_interval_unit'),
        }
      } catch {
        problems.charge_interval_frequency = [
          'Subscription lines need charge_interval_frequency, order_interval_frequency and order_interval_unit.',
        ]
      }
    }
    let price: number | null = null
    const sent = readSentPrice(line, state.decimals)
    if (sent && 'error' in sent) problems[sent.field] = [sent.error]
    if (found && sent && 'minor' in sent) {
      price = sent.minor
    } else if (found && !sent) {
      const catalog = variantPriceMinor(state, found.variant)
      price = interval
        ? applyPercentage(catalog, planDiscount(state, found.product.external_product_id, interval))
        : catalog
    }
    if (Object.keys(problems).length > 0 || !found || price === null) {
      errors[String(index)] = problems
      return
    }
    const total = price * quantity
    lines.push({
      charge_interval_frequency: interval?.charge ?? null,
      external_product_id: { ecommerce: found.product.external_product_id },
      external_variant_id: { ecommerce: found.variant.external_variant_id },
      grams: found.variant.weight.value,
      images: imagesOf(found),
      order_interval_frequency: interval?.order ?? null,
      order_interval_unit: interval?.unit ?? null,
      original_price: found.variant.prices.unit_price,
      price: state.money(price),
      product_title: found.product.title,
      properties: Array.isArray(line.properties) ? (line.properties as CheckoutLineItem['properties']) : [],
      purchase_item_type: type,
      quantity,
      requires_shipping: found.variant.requires_shipping,
      sku: found.variant.sku,
      tax_lines: [],
      taxable: found.variant.taxable,
      title: found.product.title,
      total_price: state.money(total),
      unit_price: state.money(price),
      variant_title: found.variant.title,
    })
  })
  if (Object.keys(errors).length > 0) throw unprocessable({ line_items: errors })
  return lines
}

/**
 * The unit price a line item was sent with: `unit_price` (2021-11, as on charge and order line items) or its older
 * name `price`; `unit_price` wins when both are present. A price the client sends is charged as is (no plan discount
 * on top), so it must be a plain decimal ≥ 0 with no more decimals than the currency has: rounding it silently would
 * hide a client that sent the wrong amount. Undefined when the line carries no price (the catalog's applies).
 */
function readSentPrice(
  line: Body,
  decimals: number,
): { field: string; minor: number } | { field: string; error: string } | undefined {
  const field = line.unit_price != null ? 'unit_price' : line.price != null ? 'price' : null
  if (field === null) return undefined
  const value = line[field]
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value
  if (typeof text !== 'string' || !/^-?\d+(\.\d+)?$/.test(text.trim())) return { field, error: 'Not a valid number.' }
  const trimmed = text.trim()
  if (trimmed.startsWith('-')) return { field, error: 'Must be greater than or equal to 0.' }
  const fraction = trimmed.split('.')[1] ?? ''
  if (fraction.replace(/0+$/, '').length > decimals)
    return { field, error: `Must have at most ${decimals} decimal places.` }
  const minor = parseMoney(trimmed, decimals)
  return minor === null ? { field, error: 'Not a valid number.' } : { field, minor }
}

/** The percentage discount of the product's plan with this interval (0 when no plan matches). */
function planDiscount(
  state: SimState,
  productId: string,
  interval: { charge: number; order: number; unit: string },
): number {
  for (const plan of state.plans.values()) {
    const preferences = plan.subscription_preferences
    if (plan.external_product_id.ecommerce !== productId || !preferences) continue
    if (
      preferences.charge_interval_frequency !== interval.charge ||
      preferences.order_interval_frequency !== interval.order ||
      preferences.interval_unit !== interval.unit
    )
      continue
    return plan.discount_type === 'percentage' ? Number(plan.discount_amount ?? 0) : 0
  }
  return 0
}

function readAddressBody(value: unknown, field: string): PostalAddress {
  if (!value || typeof value !== 'object') throw fieldError(field, 'Not a valid object.')
  const postal = readPostal(value as Body)
  const missing: Record<string, string[]> = {}
  for (const key of ['address1', 'city', 'country_code', 'first_name', 'last_name', 'zip'] as const) {
    if (!postal[key]) missing[key] = ['Missing data for required field.']
  }
  if (Object.keys(missing).length > 0) throw unprocessable({ [field]: missing })
  return postal
}

function readHandle(value: unknown): string | null {
  if (typeof value === 'string' && value !== '') return value
  if (value && typeof value === 'object') {
    const record = value as Body
    for (const key of ['handle', 'code'])
      if (typeof record[key] === 'string' && record[key] !== '') return record[key] as string
  }
  return null
}

function readAppliedDiscount(value: unknown): string | null | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.length === 0) return null
  const first = value[0] as Body
  return typeof first?.discount_code === 'string'
    ? first.discount_code
    : typeof first?.code === 'string'
      ? first.code
      : null
}

function emptyPostal(): PostalAddress {
  return {
    address1: null,
    address2: null,
    city: null,
    company: null,
    country_code: null,
    first_name: null,
    last_name: null,
    phone: null,
    province: null,
    zip: null,
  }
}
