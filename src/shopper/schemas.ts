import { z } from 'zod'
import { postalAddressFields } from '../schemas/postal-address.ts'
import { shopperActions } from './policy.ts'

/**
 * Public shapes of the shopper API. These are allow-lists: the serializer drops anything not listed, so upstream
 * fields a storefront has no business seeing (customer hash, payment tokens, other customers' references) can never
 * leak through a mapper mistake. Money is a decimal string in the store currency.
 */
const money = z.string().describe('Decimal amount in the store currency, e.g. "19.99"')
const idString = z.string().describe('Recharge id')

export { problemSchema } from '../schemas/problem.ts'

export const customerSchema = z
  .object({
    id: idString,
    email: z.string().nullable(),
    first_name: z.string().nullable(),
    last_name: z.string().nullable(),
    phone: z.string().nullable(),
    external_customer_id: z.string().nullable().describe("The customer's id on the store platform"),
    has_valid_payment_method: z.boolean().nullable(),
    has_payment_method_in_dunning: z.boolean().nullable().describe('A payment failed and is being retried'),
    created_at: z.string().nullable(),
  })
  .describe('A Recharge customer (safe fields only)')

export const frequencySchema = z
  .object({
    unit: z.enum(['day', 'week', 'month']),
    every: z.number().int().describe('Deliver every `every` units'),
    charge_every: z.number().int().describe('Charge every `charge_every` units (differs from `every` for prepaid)'),
  })
  .describe('How often a subscription delivers and charges')

export const allowedActionsSchema = z
  .array(z.enum(shopperActions))
  .describe('Actions the shopper may take on this subscription now, per the store policy and its status')

export const subscriptionSchema = z.object({
  id: idString,
  address_id: idString,
  status: z.string().describe('active, cancelled or expired'),
  product_title: z.string().nullable(),
  variant_title: z.string().nullable(),
  external_product_id: z.string().nullable(),
  external_variant_id: z.string().nullable(),
  quantity: z.number().int(),
  price: money.nullable(),
  currency: z.string().nullable(),
  next_charge_date: z.string().nullable().describe('YYYY-MM-DD of the next charge, null when none is scheduled'),
  frequency: frequencySchema.nullable(),
  is_prepaid: z.boolean(),
  cancelled_at: z.string().nullable(),
  cancellation_reason: z.string().nullable(),
  paused_until: z
    .string()
    .nullable()
    .describe(
      'YYYY-MM-DD the pause ends (the next charge date) while the subscription is paused, else null. Recharge keeps ' +
        'a paused subscription active; resume is then among allowed_actions',
    ),
  allowed_actions: allowedActionsSchema,
})

export const subscriptionDetailSchema = subscriptionSchema.extend({
  frequency_options: z
    .array(frequencySchema)
    .describe("Frequencies the product's plans offer (empty when the catalog does not list the product)"),
  variant_options: z
    .array(z.object({ external_variant_id: z.string(), title: z.string() }))
    .describe('Variants the subscription may be swapped to'),
  quantity_bounds: z.object({ min: z.number().int(), max: z.number().int() }),
  reschedule_window: z
    .object({ earliest: z.string(), latest: z.string() })
    .describe('Dates (YYYY-MM-DD) the next charge may be moved to'),
  cancellation_reasons: z.array(z.string()).describe('Reasons a cancel request must choose from'),
})

export const lineItemSchema = z.object({
  subscription_id: z.string().nullable().describe('The subscription this line comes from (null for one-time items)'),
  title: z.string().nullable(),
  variant_title: z.string().nullable(),
  external_product_id: z.string().nullable(),
  external_variant_id: z.string().nullable(),
  quantity: z.number().int().nullable(),
  unit_price: money.nullable(),
  total_price: money.nullable(),
})

export const chargeSchema = z.object({
  id: idString,
  address_id: z.string().nullable(),
  status: z.string().describe('queued, skipped, …'),
  scheduled_at: z.string().nullable().describe('YYYY-MM-DD'),
  currency: z.string().nullable(),
  subtotal_price: money.nullable(),
  total_price: money.nullable(),
  line_items: z.array(lineItemSchema),
})

export const orderSchema = z.object({
  id: idString,
  charge_id: z.string().nullable(),
  status: z.string(),
  external_order_number: z.string().nullable(),
  processed_at: z.string().nullable(),
  currency: z.string().nullable(),
  subtotal_price: money.nullable(),
  total_price: money.nullable(),
  line_items: z.array(lineItemSchema),
})

export const addressFields = postalAddressFields

export const addressSchema = z.object({ id: idString, ...addressFields })

const shortText = (max: number) => z.string().trim().max(max)

export const addressPatchSchema = z
  .object({
    first_name: shortText(100).min(1).optional(),
    last_name: shortText(100).min(1).optional(),
    company: shortText(200).nullable().optional(),
    address1: shortText(255).min(1).optional(),
    address2: shortText(255).nullable().optional(),
    city: shortText(100).min(1).optional(),
    province: shortText(100).nullable().optional(),
    zip: shortText(20).nullable().optional(),
    country_code: z
      .string()
      .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as US')
      .optional(),
    phone: shortText(40).nullable().optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'send at least one field')
  .describe('Shipping address fields to change')

export const idParamsSchema = z.object({
  id: z
    .string()
    .regex(/^\d{1,19}$/, 'must be a numeric id')
    .describe('Recharge id'),
})

export const subscriptionPatchSchema = z
  .object({
    next_charge_date: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')
      .optional()
      .describe('New date of the next charge, inside the store reschedule window'),
    frequency: z
      .object({ unit: z.enum(['day', 'week', 'month']), every: z.number().int().min(1).max(365) })
      .strict()
      .optional()
      .describe("New delivery frequency; must be one the product's plans offer (see frequency_options)"),
    quantity: z.number().int().min(1).max(1000).optional().describe('New quantity, inside the store bounds'),
    external_variant_id: z.string().min(1).max(64).optional().describe('Variant to swap to (see variant_options)'),
    external_product_id: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe(
        'Another catalog product to swap to, with one of its variants in external_variant_id (only when the store policy swap.scope is "catalog")',
      ),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'send at least one change')

export const cancelBodySchema = z
  .object({
    reason: z.string().min(1).max(120).describe('One of the store cancellation reasons (cancellation_reasons)'),
    comment: z.string().trim().max(2000).optional().describe('Optional free text for the merchant'),
  })
  .strict()

export const listOf = <T extends z.ZodType>(name: string, item: T) => z.object({ [name]: z.array(item) })
