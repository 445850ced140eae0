import { z } from 'zod'
import { externalId, flag, id, integer, intervalUnit, jsonText, listOf, money, nullish, timestamp } from './lenient.ts'
import { externalProductRef, listCursor } from './products.ts'

/**
 * Recharge 2021-11 Plans: the purchase options of a product (subscription, prepaid, onetime). Frequencies live in
 * `subscription_preferences`; `external_product_id` arrives as `{ecommerce: "…"}`.
 */

export const planTypeSchema = z
  .string()
  .transform((value) => value.trim().toLowerCase())
  .pipe(z.enum(['subscription', 'prepaid', 'onetime']))

export const discountTypeSchema = z
  .string()
  .transform((value) => value.trim().toLowerCase())
  .pipe(z.enum(['percentage', 'fixed_amount']))

export const subscriptionPreferencesSchema = z.object({
  interval_unit: nullish(intervalUnit),
  charge_interval_frequency: nullish(integer),
  order_interval_frequency: nullish(integer),
})

const channelSetting = z.object({ display: nullish(flag) })

export const planSchema = z.object({
  id,
  title: nullish(z.string()).transform((value) => value ?? ''),
  type: planTypeSchema,
  external_product_id: externalProductRef,
  external_variant_ids: listOf(externalId),
  has_variant_restrictions: nullish(flag).transform((value) => value ?? false),
  discount_amount: nullish(money),
  discount_type: nullish(discountTypeSchema),
  sort_order: nullish(integer).transform((value) => value ?? 0),
  subscription_preferences: jsonText(subscriptionPreferencesSchema.nullish()).transform((value) => value ?? null),
  channel_settings: nullish(
    z.object({
      api: nullish(channelSetting),
      checkout_page: nullish(channelSetting),
      customer_portal: nullish(channelSetting),
      merchant_portal: nullish(channelSetting),
    }),
  ),
  external_plan_id: nullish(externalId),
  external_plan_name: nullish(z.string()),
  updated_at: nullish(timestamp),
  deleted_at: nullish(timestamp),
})

export type RechargePlan = z.infer<typeof planSchema>

export const planEnvelope = z.object({ plan: planSchema }).transform((body) => body.plan)

export const planListEnvelope = z.object({
  plans: z.array(planSchema),
  next_cursor: listCursor,
  previous_cursor: listCursor,
})

export type RechargePlanPage = z.infer<typeof planListEnvelope>

/** Bulk endpoints answer with the plans they touched (or nothing, on delete). */
export const planBulkEnvelope = z
  .object({ plans: z.array(planSchema).nullish() })
  .nullish()
  .transform((body) => body?.plans ?? [])

export interface PlanWriteBody {
  title: string
  type: 'subscription' | 'prepaid' | 'onetime'
  external_product_id: { ecommerce: string }
  sort_order: number
  discount_type: 'percentage' | 'fixed_amount' | null
  discount_amount: string | null
  subscription_preferences: {
    interval_unit: 'day' | 'week' | 'month'
    order_interval_frequency: number
    charge_interval_frequency: number
  } | null
  channel_settings?: Record<string, { display: boolean }>
}

export type PlanUpdateBody = Partial<PlanWriteBody> & { id: string }
