import { z } from 'zod'
import { billedFields } from './charges.ts'
import { externalRef } from './common.ts'
import { flag, id, money, nullish, timestamp } from './lenient.ts'

export const orderSchema = z.object({
  ...billedFields,
  charge: z
    .object({ id: nullish(id), external_transaction_id: z.unknown().optional() })
    .transform((value) => ({ id: value.id }))
    .nullish()
    .transform((v) => v ?? null),
  /** Lower-case: success, error, queued, cancelled. */
  status: z.string().transform((value) => value.toLowerCase()),
  is_prepaid: nullish(flag),
  external_order_number: externalRef,
  total_refunds: nullish(money),
  scheduled_at: nullish(timestamp),
  processed_at: nullish(timestamp),
})
export type Order = z.output<typeof orderSchema>

export const orderEnvelope = z.object({ order: orderSchema }).transform((body) => body.order)
