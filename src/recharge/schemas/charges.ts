import { z } from 'zod'
import { externalRef, text } from './common.ts'
import { blankable, date, id, integer, listOf, money, nullish } from './lenient.ts'

/**
 * The fields of charges and orders the bridge reads (the shopper views, skip/unskip eligibility, the delivered count
 * of the cancel policy). Any other key is dropped unread, whatever its type.
 */
export const chargeLineItemSchema = z.object({
  purchase_item_id: blankable(id),
  purchase_item_type: nullish(z.string()),
  external_product_id: externalRef,
  external_variant_id: externalRef,
  title: nullish(text),
  variant_title: nullish(text),
  quantity: blankable(integer),
  unit_price: blankable(money),
  total_price: blankable(money),
})

/** What a charge and the order it becomes both carry: what, how much. */
export const billedFields = {
  id,
  currency: nullish(z.string()),
  subtotal_price: blankable(money),
  total_price: blankable(money),
  line_items: listOf(chargeLineItemSchema),
}

export const chargeSchema = z.object({
  ...billedFields,
  address_id: blankable(id),
  /** Lower-case: queued, skipped, success, error, refunded, partially_refunded, pending_manual_payment, pending. */
  status: z.string().transform((value) => value.toLowerCase()),
  scheduled_at: blankable(date),
})
export type Charge = z.output<typeof chargeSchema>

export const chargeEnvelope = z.object({ charge: chargeSchema }).transform((body) => body.charge)
