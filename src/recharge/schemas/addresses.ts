import { z } from 'zod'
import { postalAddress } from './common.ts'
import { blankable, id } from './lenient.ts'

/**
 * The fields of an address the bridge reads (the shopper view and write confirmation): its id, the postal fields and
 * its payment method.
 * Any other key is dropped unread, whatever its type.
 */
export const addressSchema = z.object({
  id,
  ...postalAddress.shape,
  /** The payment method that pays for this address's charges (the shopper's payment-method view lists its users). */
  payment_method_id: blankable(id).catch(null),
})
export type Address = z.output<typeof addressSchema>

export const addressEnvelope = z.object({ address: addressSchema }).transform((body) => body.address)
