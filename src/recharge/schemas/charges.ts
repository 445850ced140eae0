import { z } from 'zod'
import {
  discountRef,
  externalRef,
  images,
  nameValueList,
  postalAddress,
  shippingLine,
  taxLine,
  text,
} from './common.ts'
import { date, id, integer, listOf, money, nullish, timestamp } from './lenient.ts'

export const chargeLineItemSchema = z.object({
  purchase_item_id: nullish(id),
  purchase_item_type: nullish(z.string()),
  external_product_id: externalRef,
  external_variant_id: externalRef,
  title: nullish(text),
  variant_title: nullish(text),
  sku: nullish(text),
  quantity: nullish(integer),
  unit_price: nullish(money),
  total_price: nullish(money),
  images,
  properties: nameValueList,
})

/** What a charge and the order it becomes both carry: who, what, how much, where to. */
export const billedFields = {
  id,
  address_id: nullish(id),
  customer: z
    .object({ id, email: nullish(z.string()), external_customer_id: externalRef })
    .nullish()
    .transform((v) => v ?? null),
  type: nullish(z.string()),
  currency: nullish(z.string()),
  subtotal_price: nullish(money),
  total_price: nullish(money),
  total_tax: nullish(money),
  total_discounts: nullish(money),
  line_items: listOf(chargeLineItemSchema),
  shipping_lines: listOf(shippingLine),
  tax_lines: listOf(taxLine),
  discounts: listOf(discountRef),
  shipping_address: nullish(postalAddress),
  billing_address: nullish(postalAddress),
  external_order_id: externalRef,
  note: nullish(text),
  tags: nullish(text),
  order_attributes: nameValueList,
  created_at: nullish(timestamp),
  updated_at: nullish(timestamp),
}

export const chargeSchema = z.object({
  ...billedFields,
  /** Lower-case: queued, skipped, success, error, refunded, partially_refunded, pending_manual_payment, pending. */
  status: z.string().transform((value) => value.toLowerCase()),
  scheduled_at: nullish(date),
  processed_at: nullish(timestamp),
  retry_date: nullish(timestamp),
  charge_attempts: nullish(integer),
  error: nullish(text),
  error_type: nullish(text),
  total_line_items_price: nullish(money),
})
export type Charge = z.output<typeof chargeSchema>

export const chargeEnvelope = z.object({ charge: chargeSchema }).transform((body) => body.charge)
