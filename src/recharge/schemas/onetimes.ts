import { z } from 'zod'
import { externalRef, nameValueList, text } from './common.ts'
import { date, flag, id, integer, money, nullish, timestamp } from './lenient.ts'

export const onetimeSchema = z.object({
  id,
  address_id: id,
  customer_id: nullish(id),
  external_product_id: externalRef,
  external_variant_id: externalRef,
  product_title: nullish(text),
  variant_title: nullish(text),
  sku: nullish(text),
  price: nullish(money),
  quantity: integer,
  presentment_currency: nullish(z.string()),
  next_charge_scheduled_at: nullish(date),
  is_cancelled: nullish(flag),
  properties: nameValueList,
  created_at: nullish(timestamp),
  updated_at: nullish(timestamp),
})
export type Onetime = z.output<typeof onetimeSchema>

export const onetimeEnvelope = z.object({ onetime: onetimeSchema }).transform((body) => body.onetime)
