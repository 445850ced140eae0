import { z } from 'zod'
import type { Onetime } from '../recharge/schemas/onetimes.ts'

/**
 * Public shapes of one-time add-ons and the delivery schedule (allow-lists, like schemas.ts), and their request
 * bodies. Kept apart from schemas.ts so each resource's shapes sit together.
 */
const money = z.string().describe('Decimal amount in the store currency, e.g. "19.99"')
const idString = z.string().describe('Recharge id')
const ymd = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')

export const onetimeSchema = z.object({
  id: idString,
  address_id: idString,
  external_product_id: z.string().nullable(),
  external_variant_id: z.string().nullable(),
  product_title: z.string().nullable(),
  variant_title: z.string().nullable(),
  quantity: z.number().int(),
  price: money.nullable().describe('Unit price, from the store catalog'),
  currency: z.string().nullable(),
  next_charge_date: z.string().nullable().describe('YYYY-MM-DD of the delivery this item rides on'),
})

export const onetimeCreateSchema = z
  .object({
    external_product_id: z.string().min(1).max(64),
    external_variant_id: z.string().min(1).max(64),
    quantity: z.number().int().min(1).max(1000).describe('Up to the store bound onetimes.max_quantity'),
    next_charge_date: ymd
      .optional()
      .describe('Delivery date; default: the next queued delivery of the address (inside onetimes.max_days_ahead)'),
    address_id: z
      .string()
      .regex(/^\d{1,19}$/, 'must be a numeric id')
      .optional()
      .describe("One of the shopper's addresses; default: the address of their active subscription"),
  })
  .strict()
  .describe('A catalog product to add to an upcoming delivery once; the price comes from the catalog')

export const onetimePatchSchema = z
  .object({
    quantity: z.number().int().min(1).max(1000).optional(),
    next_charge_date: ymd.optional().describe('Another delivery date, inside onetimes.max_days_ahead'),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'send at least one change')

export const deliveryLineSchema = z.object({
  kind: z.enum(['subscription', 'onetime']),
  id: idString.describe('The subscription or one-time item'),
  title: z.string().nullable(),
  variant_title: z.string().nullable(),
  external_product_id: z.string().nullable(),
  external_variant_id: z.string().nullable(),
  quantity: z.number().int().nullable(),
  unit_price: money.nullable(),
  price: money.nullable().describe('unit_price × quantity'),
  skipped: z.boolean(),
  skippable: z.boolean().describe('A subscription line that may be skipped (never a one-time or prepaid line)'),
})

export const deliverySchema = z.object({
  date: z.string().describe('YYYY-MM-DD'),
  address_id: idString,
  status: z
    .enum(['scheduled', 'queued', 'partly_skipped', 'skipped'])
    .describe('scheduled: no charge exists yet; queued: charged on its date; (partly_)skipped: some or all skipped'),
  charge_id: z
    .string()
    .nullable()
    .describe('The queued charge of this delivery (skip it with POST /v1/charges/:id/skip)'),
  skipped_charge_id: z
    .string()
    .nullable()
    .describe('The charge holding its skipped lines (restore them with POST /v1/charges/:id/unskip)'),
  skippable: z.boolean().describe('The store allows skipping and a subscription line can still be skipped'),
  unskippable: z.boolean().describe('The store allows restoring and a line is skipped'),
  lines: z.array(deliveryLineSchema),
})

export const scheduleQuerySchema = z.object({
  weeks: z.coerce.number().int().min(1).max(26).default(8).describe('How many weeks ahead (1–26, default 8)'),
})

export const chargeSkipBodySchema = z
  .object({
    subscription_ids: z
      .array(z.string().regex(/^\d{1,19}$/, 'must be a numeric id'))
      .min(1)
      .max(50)
      .optional()
      .describe("Which subscriptions of the delivery; default: all of the shopper's subscriptions on it"),
  })
  .strict()

export const dateSkipBodySchema = z
  .object({
    date: ymd.describe('One of the delivery dates of GET /v1/delivery-schedule'),
    address_id: z
      .string()
      .regex(/^\d{1,19}$/, 'must be a numeric id')
      .optional()
      .describe('Needed only when deliveries to several addresses share the date'),
    subscription_ids: chargeSkipBodySchema.shape.subscription_ids,
  })
  .strict()

export type PublicOnetime = z.input<typeof onetimeSchema>
export type PublicDelivery = z.input<typeof deliverySchema>

export function publicOnetime(onetime: Onetime): PublicOnetime {
  return {
    id: onetime.id,
    address_id: onetime.address_id,
    external_product_id: onetime.external_product_id,
    external_variant_id: onetime.external_variant_id,
    product_title: onetime.product_title,
    variant_title: onetime.variant_title,
    quantity: onetime.quantity,
    price: onetime.price,
    currency: onetime.presentment_currency,
    next_charge_date: onetime.next_charge_scheduled_at,
  }
}
