import { z } from 'zod'
import { postalAddress } from './common.ts'
import { id } from './lenient.ts'

/**
 * The fields of an address the bridge reads (the shopper view and write confirmation): its id and the postal fields.
 * Any other key is dropped unread, whatever its type.
 */
export const addressSchema = z.object({
  id,
  ...postalAddress.shape,
})
export type Address = z.output<typeof addressSchema>

export const addressEnvelope = z.object({ address: addressSchema }).transform((body) => body.address)
