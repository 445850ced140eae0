import { z } from 'zod'
import { postalAddressFields } from '../schemas/postal-address.ts'

/**
 * The checkout routes' public contract. Request objects are strict: a key we do not know is a 400, so a browser
 * cannot smuggle a price, an interval or a discount amount in, even one the code would ignore today. Response
 * schemas are allow-lists: the serializer drops anything not listed (payment tokens, processor ids, upstream extras).
 */

const text = (max: number) => z.string().trim().min(1).max(max)

const externalIdInput = z
  .union([z.string().trim().min(1).max(64), z.number().int().nonnegative()])
  .transform(String)
  .describe('Platform (BigCommerce/custom) id, as in the catalog')

export const cartLineSchema = z
  .strictObject({
    external_product_id: externalIdInput,
    external_variant_id: externalIdInput,
    quantity: z.number().int().min(1).max(100),
    plan_id: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('A subscription plan of this product (catalog `plans[].id`); absent = one-time purchase'),
    onetime: z.literal(true).optional().describe('Explicit one-time purchase (the same as leaving plan_id out)'),
  })
  .refine((line) => !(line.plan_id !== undefined && line.onetime), {
    message: 'a line is either a subscription (plan_id) or one-time (onetime: true), not both',
    path: ['onetime'],
  })
export type CartLine = z.output<typeof cartLineSchema>

export const addressInputSchema = z.strictObject({
  first_name: text(100),
  last_name: text(100),
  company: text(200).optional(),
  address1: text(200),
  address2: text(200).optional(),
  city: text(100),
  province: text(100).optional(),
  zip: text(20),
  country_code: z
    .string()
    .trim()
    .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166-1 alpha-2 code')
    .transform((code) => code.toUpperCase()),
  phone: text(40).optional(),
})
export type AddressInput = z.output<typeof addressInputSchema>

const utmSchema = z.strictObject({
  utm_source: text(200).optional(),
  utm_medium: text(200).optional(),
  utm_campaign: text(200).optional(),
  utm_term: text(200).optional(),
  utm_content: text(200).optional(),
})

const discountCode = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[\w.-]+$/, 'letters, digits, "_", "-" and "." only')

export const createCheckoutBodySchema = z.strictObject({
  lines: z.array(cartLineSchema).min(1).max(25),
  email: z.email().max(254).optional(),
  shipping_address: addressInputSchema.optional(),
  billing_address: addressInputSchema.optional(),
  discount_code: discountCode.optional(),
  utm: utmSchema.optional(),
})
export type CreateCheckoutBody = z.output<typeof createCheckoutBodySchema>

export const updateCheckoutBodySchema = z
  .strictObject({
    email: z.email().max(254).optional(),
    shipping_address: addressInputSchema.optional(),
    billing_address: addressInputSchema.optional(),
    shipping_rate: text(200).optional().describe('A `handle` from GET /v1/checkouts/{token}/shipping-rates'),
    discount_code: discountCode.nullable().optional().describe('A code to apply; null removes the applied code'),
  })
  .refine((body) => Object.values(body).some((value) => value !== undefined), {
    message:
      'nothing to change: send at least one of email, shipping_address, billing_address, shipping_rate, discount_code',
  })
export type UpdateCheckoutBody = z.output<typeof updateCheckoutBodySchema>

export const chargeCheckoutBodySchema = z.strictObject({
  payment_processor: z.enum(['stripe', 'braintree', 'authorize', 'mollie']),
  payment_token: z
    .string()
    .min(1)
    .max(512)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
    .describe('A single-use token from the payment processor (never a card number)'),
  payment_type: z.enum(['CREDIT_CARD', 'PAYPAL', 'APPLE_PAY', 'GOOGLE_PAY', 'SEPA_DEBIT']).optional(),
})
export type ChargeCheckoutBody = z.output<typeof chargeCheckoutBodySchema>

export const checkoutTokenParamsSchema = z.strictObject({
  token: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[\w-]+$/, 'not a checkout token'),
})

export const checkoutSecretHeaderSchema = z.object({
  'x-checkout-secret': z
    .string()
    .max(256)
    .optional()
    .describe('The checkout_secret returned when the checkout was created'),
})

// ---- responses ----

const money = z.string().describe('Decimal amount in the checkout currency, as Recharge computed it')

const intervalSchema = z.object({
  unit: z.enum(['day', 'week', 'month']),
  charge_every: z.number().int(),
  deliver_every: z.number().int(),
})

export const checkoutLineResponseSchema = z.object({
  external_product_id: z.string().nullable(),
  external_variant_id: z.string().nullable(),
  title: z.string().nullable(),
  variant_title: z.string().nullable(),
  quantity: z.number().int(),
  purchase_type: z.enum(['subscription', 'onetime']),
  unit_price: money.nullable(),
  line_price: money.nullable(),
  interval: intervalSchema.nullable(),
})

export const addressResponseSchema = z.object(postalAddressFields)

export const totalsSchema = z.object({
  currency: z.string().nullable(),
  subtotal: money.nullable(),
  discounts: money.nullable(),
  shipping: money.nullable(),
  tax: money.nullable(),
  total: money.nullable(),
})

export const checkoutResponseSchema = z.object({
  token: z.string(),
  status: z.enum(['open', 'processed']),
  checkout_url: z.url().describe("Recharge's hosted checkout for this cart (for merchants who hand off payment)"),
  email: z.string().nullable(),
  lines: z.array(checkoutLineResponseSchema),
  totals: totalsSchema,
  requires_shipping: z.boolean().nullable(),
  shipping_address: addressResponseSchema.nullable(),
  billing_address: addressResponseSchema.nullable(),
  shipping_rate: z
    .object({ handle: z.string().nullable(), title: z.string().nullable(), price: money.nullable() })
    .nullable(),
  discount_codes: z.array(z.string()),
  completed_at: z.string().nullable(),
  created_at: z.string().nullable(),
})
export type CheckoutResponse = z.input<typeof checkoutResponseSchema>

export const createdCheckoutResponseSchema = checkoutResponseSchema.extend({
  checkout_secret: z
    .string()
    .describe(
      'Send it as X-Checkout-Secret on every later call for this checkout; keep it in the page, never in a URL',
    ),
  checkout_secret_expires_at: z.string(),
})
export type CreatedCheckoutResponse = z.input<typeof createdCheckoutResponseSchema>

export const shippingRatesResponseSchema = z.object({
  shipping_rates: z.array(
    z.object({
      handle: z.string(),
      title: z.string().nullable(),
      price: money.nullable(),
      description: z.string().nullable(),
    }),
  ),
})
export type ShippingRatesResponse = z.input<typeof shippingRatesResponseSchema>

export const chargeResponseSchema = z.object({
  token: z.string(),
  status: z.literal('processed'),
  charge_id: z.string().nullable(),
  order_id: z.string().nullable(),
  completed_at: z.string().nullable(),
  free: z.boolean().nullable(),
  recovered: z
    .boolean()
    .describe('true when the connection to Recharge failed mid-charge and the outcome was read back from Recharge'),
})
export type ChargeResponse = z.input<typeof chargeResponseSchema>
