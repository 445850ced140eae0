import { z } from 'zod'
import { discountRef, nameValueList, postalAddress, shippingLine, text } from './common.ts'
import { id, listOf, nullish, timestamp } from './lenient.ts'

export const addressSchema = z.object({
  id,
  customer_id: nullish(id),
  payment_method_id: nullish(id),
  ...postalAddress.shape,
  order_note: nullish(text),
  order_attributes: nameValueList,
  presentment_currency: nullish(z.string()),
  discounts: listOf(discountRef),
  shipping_lines_override: listOf(shippingLine),
  created_at: nullish(timestamp),
  updated_at: nullish(timestamp),
})
export type Address = z.output<typeof addressSchema>

export const addressEnvelope = z.object({ address: addressSchema }).transform((body) => body.address)
