import { z } from 'zod'
import { externalId, flag, id, integer, intervalUnit, money, nullish, timestamp } from './lenient.ts'

/**
 * Upstream (Recharge 2021-11) checkout bodies, parsed leniently. Only the fields the bridge reads are kept (zod
 * strips the rest), so nothing Recharge adds later — payment tokens, processor customer ids — can leak through.
 *
 * Shapes drift between the docs, the API versions and the clients in the wild:
 *  - external ids arrive as `{ecommerce: "123"}` (2021-11) or as bare strings/numbers;
 *  - intervals arrive nested in `subscription_preferences` (2021-11) or flat on the line item (2021-01:
 *    `charge_interval_frequency`, `order_interval_frequency`, `order_interval_unit`);
 *  - prices arrive as `unit_price` or `price`; shipping as `applied_shipping_rate`, `shipping_line` or `shipping_lines`.
 * Each is normalised to one form here, so the rest of the code sees a single model.
 */

/** `{ecommerce: "123"}`, `{"ecommerce": 123}` or a bare id → "123". */
const platformId = z
  .union([z.object({ ecommerce: externalId }), externalId])
  .transform((value) => (typeof value === 'string' ? value : value.ecommerce))

const optionalText = nullish(z.string())
const optionalMoney = nullish(money)

export const upstreamAddressSchema = z.object({
  first_name: optionalText,
  last_name: optionalText,
  company: optionalText,
  address1: optionalText,
  address2: optionalText,
  city: optionalText,
  province: optionalText,
  zip: optionalText,
  country_code: optionalText,
  country: optionalText,
  phone: optionalText,
})
export type UpstreamAddress = z.infer<typeof upstreamAddressSchema>

const subscriptionPreferences = z.object({
  charge_interval_frequency: nullish(integer),
  order_interval_frequency: nullish(integer),
  interval_unit: nullish(intervalUnit),
  order_interval_unit: nullish(intervalUnit),
})

export const upstreamLineItemSchema = z
  .object({
    external_product_id: nullish(platformId),
    external_variant_id: nullish(platformId),
    purchase_item_type: nullish(z.string()),
    quantity: integer,
    unit_price: optionalMoney,
    price: optionalMoney,
    line_price: optionalMoney,
    total_price: optionalMoney,
    title: optionalText,
    product_title: optionalText,
    variant_title: optionalText,
    sku: optionalText,
    subscription_preferences: nullish(subscriptionPreferences),
    charge_interval_frequency: nullish(integer),
    order_interval_frequency: nullish(integer),
    order_interval_unit: nullish(intervalUnit),
    interval_unit: nullish(intervalUnit),
  })
  .transform((item) => {
    const prefs = item.subscription_preferences
    const unit = prefs?.interval_unit ?? prefs?.order_interval_unit ?? item.order_interval_unit ?? item.interval_unit
    const chargeEvery = prefs?.charge_interval_frequency ?? item.charge_interval_frequency
    const deliverEvery = prefs?.order_interval_frequency ?? item.order_interval_frequency ?? chargeEvery
    const declared = item.purchase_item_type?.toLowerCase()
    const isSubscription = declared ? declared === 'subscription' : Boolean(unit && chargeEvery)
    return {
      externalProductId: item.external_product_id,
      externalVariantId: item.external_variant_id,
      purchaseType: isSubscription ? ('subscription' as const) : ('onetime' as const),
      quantity: item.quantity,
      unitPrice: item.unit_price ?? item.price,
      linePrice: item.line_price ?? item.total_price,
      title: item.title ?? item.product_title,
      variantTitle: item.variant_title,
      sku: item.sku,
      interval:
        isSubscription && unit && chargeEvery
          ? { unit, chargeEvery, deliverEvery: deliverEvery ?? chargeEvery }
          : (null as null | { unit: 'day' | 'week' | 'month'; chargeEvery: number; deliverEvery: number }),
    }
  })
export type UpstreamLineItem = z.output<typeof upstreamLineItemSchema>

export const upstreamShippingRateSchema = z.object({
  code: optionalText,
  handle: optionalText,
  title: optionalText,
  name: optionalText,
  price: optionalMoney,
  description: optionalText,
  delivery_range: nullish(z.unknown()),
})
export type UpstreamShippingRate = z.infer<typeof upstreamShippingRateSchema>

const upstreamDiscountSchema = z.object({
  discount_code: optionalText,
  code: optionalText,
  amount: optionalMoney,
  value: optionalMoney,
  value_type: optionalText,
  applicable: nullish(flag),
  non_redeemable_reason: optionalText,
})

const upstreamShippingLineSchema = z.object({
  code: optionalText,
  title: optionalText,
  name: optionalText,
  price: optionalMoney,
  handle: optionalText,
})

/** A customer id as Recharge may attach it: `customer_id`, or a nested `customer: {id}`. */
const customerRef = z.object({ id: nullish(id) })

export const upstreamCheckoutSchema = z
  .object({
    token: z.string().min(1),
    currency: optionalText,
    email: optionalText,
    phone: optionalText,
    line_items: z.array(upstreamLineItemSchema).nullish(),
    subtotal_price: optionalMoney,
    total_tax: optionalMoney,
    total_price: optionalMoney,
    total_discounts: optionalMoney,
    requires_shipping: nullish(flag),
    taxes_included: nullish(flag),
    shipping_address: nullish(upstreamAddressSchema),
    billing_address: nullish(upstreamAddressSchema),
    applied_shipping_rate: nullish(upstreamShippingRateSchema),
    shipping_rate: nullish(upstreamShippingRateSchema),
    shipping_line: nullish(upstreamShippingLineSchema),
    shipping_lines: z.array(upstreamShippingLineSchema).nullish(),
    applied_discounts: z.array(upstreamDiscountSchema).nullish(),
    applied_discount: nullish(upstreamDiscountSchema),
    discount_code: optionalText,
    charge_id: nullish(id),
    order_id: nullish(id),
    customer_id: nullish(id),
    customer: nullish(customerRef),
    external_customer_id: nullish(platformId),
    completed_at: nullish(timestamp),
    created_at: nullish(timestamp),
    updated_at: nullish(timestamp),
  })
  .transform((checkout) => {
    // The chosen rate: `applied_shipping_rate` (2021-11), `shipping_rate`, or a single `shipping_line` naming one.
    const shippingLine = checkout.shipping_line?.handle || checkout.shipping_line?.code ? checkout.shipping_line : null
    const shippingRate = checkout.applied_shipping_rate ?? checkout.shipping_rate ?? shippingLine
    const shippingLines = checkout.shipping_lines ?? (checkout.shipping_line ? [checkout.shipping_line] : [])
    const discounts = [
      ...(checkout.applied_discounts ?? []),
      ...(checkout.applied_discount ? [checkout.applied_discount] : []),
    ]
    const discountCodes = discounts
      .map((discount) => discount.discount_code ?? discount.code)
      .filter((code): code is string => Boolean(code))
    if (checkout.discount_code && !discountCodes.includes(checkout.discount_code)) {
      discountCodes.push(checkout.discount_code)
    }
    return {
      token: checkout.token,
      currency: checkout.currency,
      email: checkout.email,
      lineItems: checkout.line_items ?? [],
      subtotalPrice: checkout.subtotal_price,
      totalTax: checkout.total_tax,
      totalPrice: checkout.total_price,
      totalDiscounts: checkout.total_discounts ?? sumOrNull(discounts.map((discount) => discount.amount)),
      shippingPrice: shippingRate?.price ?? sumOrNull(shippingLines.map((line) => line.price)),
      requiresShipping: checkout.requires_shipping,
      shippingAddress: checkout.shipping_address,
      billingAddress: checkout.billing_address,
      shippingRate: shippingRate
        ? {
            handle: shippingRate.handle ?? shippingRate.code,
            title: shippingRate.title ?? shippingRate.name,
            price: shippingRate.price,
          }
        : null,
      discountCodes,
      chargeId: checkout.charge_id,
      orderId: checkout.order_id,
      customerId: checkout.customer_id ?? checkout.customer?.id ?? null,
      externalCustomerId: checkout.external_customer_id,
      completedAt: checkout.completed_at,
      createdAt: checkout.created_at,
      updatedAt: checkout.updated_at,
    }
  })
export type UpstreamCheckout = z.output<typeof upstreamCheckoutSchema>

/** Sum of decimal strings, exact (integer arithmetic on scaled values); null when none is present. */
function sumOrNull(values: readonly (string | null)[]): string | null {
  const present = values.filter((value): value is string => value !== null)
  if (present.length === 0) return null
  const scale = Math.max(...present.map((value) => value.split('.')[1]?.length ?? 0))
  const total = present.reduce((sum, value) => sum + toScaled(value, scale), 0n)
  return fromScaled(total, scale)
}

function toScaled(value: string, scale: number): bigint {
  const negative = value.startsWith('-')
  const [whole = '0', fraction = ''] = value.replace(/^-/, '').split('.')
  const scaled = BigInt(whole + fraction.padEnd(scale, '0'))
  return negative ? -scaled : scaled
}

function fromScaled(value: bigint, scale: number): string {
  const negative = value < 0n
  const digits = (negative ? -value : value).toString().padStart(scale + 1, '0')
  const whole = digits.slice(0, digits.length - scale)
  const fraction = scale > 0 ? `.${digits.slice(digits.length - scale)}` : ''
  return `${negative ? '-' : ''}${whole}${fraction}`
}

export const checkoutEnvelopeSchema = z.object({ checkout: upstreamCheckoutSchema }).transform((body) => body.checkout)

export const shippingRatesEnvelopeSchema = z
  .object({ shipping_rates: z.array(upstreamShippingRateSchema) })
  .transform((body) => body.shipping_rates)

/**
 * The charge answer. 2021-11 answers `{checkout_charge: {...}}` whose content is the processed checkout in some
 * accounts and a charge summary (`charge_id`, `status`, `free`, processor ids, the payment token) in others; we keep
 * only what identifies the outcome, never a token or processor id.
 */
const checkoutChargeSchema = z
  .object({
    token: nullish(z.string()),
    charge_id: nullish(id),
    order_id: nullish(id),
    customer_id: nullish(id),
    customer: nullish(customerRef),
    status: nullish(z.string()),
    free: nullish(flag),
    completed_at: nullish(timestamp),
    email: optionalText,
  })
  .transform((charge) => ({
    token: charge.token,
    chargeId: charge.charge_id,
    orderId: charge.order_id,
    customerId: charge.customer_id ?? charge.customer?.id ?? null,
    status: charge.status,
    free: charge.free,
    completedAt: charge.completed_at,
    email: charge.email,
  }))
export type UpstreamCheckoutCharge = z.output<typeof checkoutChargeSchema>

export const checkoutChargeEnvelopeSchema = z
  .union([z.object({ checkout_charge: checkoutChargeSchema }), z.object({ checkout: checkoutChargeSchema })])
  .transform((body) => ('checkout_charge' in body ? body.checkout_charge : body.checkout))

/** What we send: the bodies of create / update / charge, typed so the resource cannot send a browser field. */
export interface UpstreamCheckoutLineInput {
  external_product_id: { ecommerce: string }
  external_variant_id: { ecommerce: string }
  quantity: number
  purchase_item_type: 'subscription' | 'onetime'
  unit_price: string
  title: string
  variant_title: string
  subscription_preferences?: {
    charge_interval_frequency: number
    order_interval_frequency: number
    interval_unit: 'day' | 'week' | 'month'
  }
}

export interface UpstreamAddressInput {
  first_name: string
  last_name: string
  address1: string
  address2?: string
  city: string
  province?: string
  zip: string
  country_code: string
  phone?: string
  company?: string
}

export interface UpstreamCheckoutCreateBody {
  line_items: UpstreamCheckoutLineInput[]
  currency?: string
  email?: string
  shipping_address?: UpstreamAddressInput
  billing_address?: UpstreamAddressInput
  applied_discounts?: { discount_code: string }[]
  analytics_data?: { utm_params: Record<string, string>[] }
  external_checkout_source: 'headless'
}

export interface UpstreamCheckoutUpdateBody {
  email?: string
  shipping_address?: UpstreamAddressInput
  billing_address?: UpstreamAddressInput
  applied_shipping_rate?: { handle: string }
  discount_code?: string | null
  applied_discounts?: { discount_code: string }[]
}

export interface UpstreamCheckoutChargeBody {
  payment_processor: string
  payment_token: string
  payment_type?: string
}
