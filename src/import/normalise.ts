import type { ImportAddress } from './record.ts'

/**
 * Comparisons an import makes against what Recharge already holds: an email ignores case; an address ignores case,
 * surrounding and repeated spaces and the fields Recharge may fill in itself (country name, phone, company), so a
 * record read back from Recharge matches the record it came from.
 */

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase()
}

function part(value: string | null | undefined): string {
  return (value ?? '').trim().replace(/\s+/g, ' ').toLowerCase()
}

export interface AddressLike {
  first_name?: string | null
  last_name?: string | null
  address1?: string | null
  address2?: string | null
  city?: string | null
  province?: string | null
  zip?: string | null
  country_code?: string | null
}

/** The fields that make two addresses the same delivery address. */
export function addressKey(address: AddressLike): string {
  return [
    address.first_name,
    address.last_name,
    address.address1,
    address.address2,
    address.city,
    address.province,
    (address.zip ?? '').replace(/\s+/g, ''),
    address.country_code,
  ]
    .map(part)
    .join('|')
}

/** The address as Recharge's create bodies take it (absent optional fields left out). */
export function addressBody(address: ImportAddress): Record<string, string> {
  const body: Record<string, string> = {}
  for (const [key, value] of Object.entries(address)) if (typeof value === 'string' && value !== '') body[key] = value
  return body
}

const DAY_MS = 86_400_000

function addInterval(date: Date, unit: 'day' | 'week' | 'month', every: number): Date {
  const next = new Date(date.getTime())
  if (unit === 'day') next.setUTCDate(next.getUTCDate() + every)
  else if (unit === 'week') next.setUTCDate(next.getUTCDate() + 7 * every)
  else next.setUTCMonth(next.getUTCMonth() + every)
  return next
}

/**
 * The first Recharge charge: the record's date when it gives one, else one interval after the order. Recharge takes
 * no date before tomorrow, so an old order (a migration) moves forward by whole intervals until it is in the future.
 */
export function firstChargeDate(
  orderDate: string,
  interval: { unit: 'day' | 'week' | 'month'; every: number },
  explicit: string | undefined,
  now: number,
): string {
  if (explicit) return explicit
  const tomorrow = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate() + 1)
  let next = addInterval(new Date(`${orderDate}T00:00:00Z`), interval.unit, interval.every)
  for (let guard = 0; next.getTime() < tomorrow && guard < 10_000; guard += 1) {
    next = addInterval(next, interval.unit, interval.every)
  }
  if (next.getTime() < tomorrow) next = new Date(tomorrow + DAY_MS)
  return next.toISOString().slice(0, 10)
}
