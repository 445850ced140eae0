import { z } from 'zod'
import { chargeLineItemSchema } from './charges.ts'
import { discountRef, externalRef, nameValueList, postalAddress, shippingLine, taxLine, text } from './common.ts'
import { flag, id, money, nullish, timestamp } from './lenient.ts'

export const orderSchema = z.object({
  id,
  address_id: nullish(id),
  customer: z
    .object({ id, email: nullish(z.string()), external_customer_id: externalRef })
    .nullish()
    .transform((v) => v ?? null),
  charge: z
    .object({ id: nullish(id), external_transaction_id: z.unknown().optional() })
    .transform((value) => ({ id: value.id }))
    .nullish()
    .transform((v) => v ?? null),
  /** Lower-case: success, error, queued, cancelled. */
  status: z.string().transform((value) => value.toLowerCase()),
  type: nullish(z.string()),
  is_prepaid: nullish(flag),
  currency: nullish(z.string()),
  external_order_id: externalRef,
  external_order_number: externalRef,
  line_items: z
    .array(chargeLineItemSchema)
    .nullish()
    .transform((v) => v ?? []),
  shipping_lines: z
    .array(shippingLine)
    .nullish()
    .transform((v) => v ?? []),
  tax_lines: z
    .array(taxLine)
    .nullish()
    .transform((v) => v ?? []),
  discounts: z
    .array(discountRef)
    .nullish()
    .transform((v) => v ?? []),
  shipping_address: nullish(postalAddress),
  billing_address: nullish(postalAddress),
  subtotal_price: nullish(money),
  total_price: nullish(money),
  total_tax: nullish(money),
  total_discounts: nullish(money),
  total_refunds: nullish(money),
  note: nullish(text),
  tags: nullish(text),
  order_attributes: nameValueList,
  scheduled_at: nullish(timestamp),
  processed_at: nullish(timestamp),
  created_at: nullish(timestamp),
  updated_at: nullish(timestamp),
})
export type Order = z.output<typeof orderSchema>

export const orderEnvelope = z.object({ order: orderSchema }).transform((body) => body.order)
