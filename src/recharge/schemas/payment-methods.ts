import { z } from 'zod'
import { postalAddress, text } from './common.ts'
import { flag, id, integer, nullish, timestamp } from './lenient.ts'

/**
 * A customer's payment method, display fields only. `processor_customer_token` and `processor_payment_method_token`
 * are deliberately not listed: zod drops them, so a payment token can never reach a response, a cache or a log.
 */
export const paymentMethodSchema = z.object({
  id,
  customer_id: nullish(id),
  default: nullish(flag),
  payment_type: nullish(z.string()),
  processor_name: nullish(z.string()),
  status: nullish(z.string()),
  status_reason: nullish(text),
  billing_address: nullish(postalAddress.extend({ country: nullish(text) })),
  payment_details: nullish(
    z.object({
      brand: nullish(z.string()),
      last4: nullish(text),
      exp_month: nullish(integer),
      exp_year: nullish(integer),
      wallet_type: nullish(z.string()),
    }),
  ),
  created_at: nullish(timestamp),
  updated_at: nullish(timestamp),
})
export type PaymentMethod = z.output<typeof paymentMethodSchema>

export const paymentMethodEnvelope = z
  .object({ payment_method: paymentMethodSchema })
  .transform((body) => body.payment_method)
