import { z } from 'zod'
import { externalRef, text } from './common.ts'
import { blankable, date, flag, id, integer, intervalUnit, money, nullish, timestamp } from './lenient.ts'

/**
 * The fields of a subscription the bridge reads (the shopper view in src/shopper/mappers.ts, the policy checks and
 * actions, write confirmation). Nothing else is listed: any other key Recharge sends is dropped unread, whatever its
 * type. Only `id`, `address_id`, `status` and `quantity` are required; without them the record cannot be served.
 */
export const subscriptionSchema = z.object({
  id,
  address_id: id,
  /** Lower-case: active, cancelled, expired. */
  status: z.string().transform((value) => value.toLowerCase()),
  external_product_id: externalRef,
  external_variant_id: externalRef,
  product_title: nullish(text),
  variant_title: nullish(text),
  price: blankable(money),
  quantity: integer,
  presentment_currency: nullish(z.string()),
  charge_interval_frequency: blankable(integer),
  order_interval_frequency: blankable(integer),
  order_interval_unit: blankable(intervalUnit),
  next_charge_scheduled_at: blankable(date),
  is_prepaid: nullish(flag),
  is_skippable: nullish(flag),
  is_swappable: nullish(flag),
  cancellation_reason: nullish(text),
  cancelled_at: blankable(timestamp),
})
export type Subscription = z.output<typeof subscriptionSchema>

export const subscriptionEnvelope = z
  .object({ subscription: subscriptionSchema })
  .transform((body) => body.subscription)
