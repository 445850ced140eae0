import { z } from 'zod'
import { externalRef, nameValueList, text } from './common.ts'
import { date, flag, id, integer, intervalUnit, money, nullish, timestamp } from './lenient.ts'

export const subscriptionSchema = z.object({
  id,
  address_id: id,
  customer_id: nullish(id),
  /** Lower-case: active, cancelled, expired. */
  status: z.string().transform((value) => value.toLowerCase()),
  external_product_id: externalRef,
  external_variant_id: externalRef,
  product_title: nullish(text),
  variant_title: nullish(text),
  sku: nullish(text),
  sku_override: nullish(flag),
  price: nullish(money),
  quantity: integer,
  presentment_currency: nullish(z.string()),
  charge_interval_frequency: nullish(integer),
  order_interval_frequency: nullish(integer),
  order_interval_unit: nullish(intervalUnit),
  order_day_of_month: nullish(integer),
  order_day_of_week: nullish(integer),
  expire_after_specific_number_of_charges: nullish(integer),
  next_charge_scheduled_at: nullish(date),
  has_queued_charges: nullish(flag),
  is_prepaid: nullish(flag),
  is_skippable: nullish(flag),
  is_swappable: nullish(flag),
  max_retries_reached: nullish(flag),
  cancellation_reason: nullish(text),
  cancellation_reason_comments: nullish(text),
  cancelled_at: nullish(timestamp),
  properties: nameValueList,
  created_at: nullish(timestamp),
  updated_at: nullish(timestamp),
})
export type Subscription = z.output<typeof subscriptionSchema>

export const subscriptionEnvelope = z
  .object({ subscription: subscriptionSchema })
  .transform((body) => body.subscription)
