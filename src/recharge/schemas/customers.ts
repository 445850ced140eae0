import { z } from 'zod'
import { externalRef, postalAddress, text } from './common.ts'
import { blankable, date, flag, id, integer, listOf, money, nullish, timestamp } from './lenient.ts'

/**
 * The fields of a customer the bridge reads (the shopper profile view, the identity lookup, the hosted-portal hash).
 * Any other key is dropped unread, whatever its type.
 */
export const customerSchema = z.object({
  id,
  email: nullish(z.string()),
  first_name: nullish(text),
  last_name: nullish(text),
  phone: nullish(text),
  external_customer_id: externalRef,
  /** Opaque customer hash used by hosted-portal URLs (length varies: never validate it). */
  hash: nullish(z.string()),
  has_valid_payment_method: nullish(flag),
  has_payment_method_in_dunning: nullish(flag),
  created_at: blankable(timestamp),
})
export type Customer = z.output<typeof customerSchema>

export const customerEnvelope = z.object({ customer: customerSchema }).transform((body) => body.customer)

/**
 * Only what a hosted-portal hand-off uses, validated as strictly as in `customerSchema`. The hand-off reads the
 * customer on every call (the hash is never cached), and parsing the whole record there was the largest cost of the
 * route after the network.
 */
export const customerPortalEnvelope = z
  .object({ customer: z.object({ id, hash: nullish(z.string()) }) })
  .transform((body) => body.customer)

const deliveryLineItem = z.object({
  subscription_id: nullish(id),
  external_product_id: externalRef,
  external_variant_id: externalRef,
  is_skippable: nullish(flag),
  /** A date skipped ahead of time, or a skipped charge's line (newer than the recorded response; the SDK has it). */
  is_skipped: nullish(flag),
  plan_type: nullish(z.string()),
  product_title: nullish(text),
  variant_title: nullish(text),
  properties: z
    .array(z.object({ name: text, value: nullish(text) }))
    .nullish()
    .transform((v) => v ?? []),
  quantity: nullish(integer),
  subtotal_price: nullish(money),
  unit_price: nullish(money),
})

const deliveryOrder = z.object({
  id: nullish(id),
  address_id: nullish(id),
  charge_id: nullish(id),
  line_items: listOf(deliveryLineItem),
  /** Card brand/last4 only; processor tokens are never carried. */
  payment_method: z
    .object({
      id: nullish(id),
      billing_address: nullish(postalAddress),
      payment_details: nullish(
        z.object({
          brand: nullish(z.string()),
          last4: nullish(text),
          exp_month: nullish(integer),
          exp_year: nullish(integer),
        }),
      ),
    })
    .nullish()
    .transform((v) => v ?? null),
  shipping_address: nullish(postalAddress),
})

export const deliveryScheduleSchema = z.object({
  customer: z.object({ id, email: nullish(z.string()), first_name: nullish(text), last_name: nullish(text) }),
  deliveries: z.array(
    z.object({
      date,
      orders: listOf(deliveryOrder),
    }),
  ),
})
export type DeliverySchedule = z.output<typeof deliveryScheduleSchema>
