import { z } from 'zod'
import { billedFields } from './charges.ts'
import { externalRef, postalAddress } from './common.ts'
import { blankable, id, jsonText, nullish, timestamp } from './lenient.ts'

/** The fields of an order the bridge reads (the shopper view, the delivered count); any other key is dropped unread. */
export const orderSchema = z.object({
  ...billedFields,
  charge: jsonText(z.object({ id: blankable(id) }).nullish()).transform((value) => value ?? null),
  /** Lower-case: success, error, queued, cancelled. */
  status: z.string().transform((value) => value.toLowerCase()),
  external_order_number: externalRef,
  processed_at: blankable(timestamp),
  created_at: blankable(timestamp),
  /** Whose order it is (2021-11 nests the customer): a page read is checked against the shopper it was asked for. */
  customer: z
    .object({ id: blankable(id) })
    .nullish()
    .catch(null)
    .transform((value) => value ?? null),
  shipping_address: nullish(postalAddress).catch(null),
})
export type Order = z.output<typeof orderSchema>

export const orderEnvelope = z.object({ order: orderSchema }).transform((body) => body.order)
