import { z } from 'zod'
import { discountRef, nameValueList, shippingLine, text } from './common.ts'
import { id, listOf, nullish, timestamp } from './lenient.ts'

export const addressSchema = z.object({
  id,
  customer_id: nullish(id),
  payment_method_id: nullish(id),
  address1: nullish(text),
  address2: nullish(text),
  city: nullish(text),
  company: nullish(text),
  country_code: nullish(text),
  first_name: nullish(text),
  last_name: nullish(text),
  phone: nullish(text),
  province: nullish(text),
  zip: nullish(text),
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
