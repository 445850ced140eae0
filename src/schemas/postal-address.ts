import { z } from 'zod'

/** A postal address as our responses show it (shopper addresses, checkout shipping and billing). */
export const postalAddressFields = {
  first_name: z.string().nullable(),
  last_name: z.string().nullable(),
  company: z.string().nullable(),
  address1: z.string().nullable(),
  address2: z.string().nullable(),
  city: z.string().nullable(),
  province: z.string().nullable(),
  zip: z.string().nullable(),
  country_code: z.string().nullable(),
  phone: z.string().nullable(),
}
