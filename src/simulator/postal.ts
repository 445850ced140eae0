import type { PostalAddress } from './types.ts'

/** Postal address fields, shared by addresses, charges, orders and checkouts. */
export const POSTAL_FIELDS = [
  'address1',
  'address2',
  'city',
  'company',
  'country_code',
  'first_name',
  'last_name',
  'phone',
  'province',
  'zip',
] as const

export function postalOf(address: PostalAddress): PostalAddress {
  return {
    address1: address.address1,
    address2: address.address2,
    city: address.city,
    company: address.company,
    country_code: address.country_code,
    first_name: address.first_name,
    last_name: address.last_name,
    phone: address.phone,
    province: address.province,
    zip: address.zip,
  }
}

export function readPostal(body: Record<string, unknown>): PostalAddress {
  const postal = {} as PostalAddress
  for (const key of POSTAL_FIELDS) {
    const value = body[key]
    postal[key] = value === undefined || value === null ? null : String(value)
  }
  return postal
}
