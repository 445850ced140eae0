import type { FastifyRequest } from 'fastify'
import { parseTimestamp } from '../dates.ts'
import { fieldError, notFound } from '../errors.ts'
import type { CustomerRecords } from '../indexed-records.ts'
import type { Page } from '../pagination.ts'
import type { SimState } from '../state.ts'

/** Path ids: anything that is not a positive integer is simply "Not Found", as Recharge answers. */
export function idParam(request: FastifyRequest, name = 'id'): number {
  const raw = (request.params as Record<string, string>)[name]
  const id = Number(raw)
  if (!raw || !Number.isSafeInteger(id) || id <= 0) throw notFound()
  return id
}

export function stringParam(request: FastifyRequest, name: string): string {
  return (request.params as Record<string, string>)[name] ?? ''
}

export type Body = Record<string, unknown>

/** The JSON body as an object (absent → {}), optionally unwrapped from `{"<envelope>": {…}}`. */
export function bodyOf(request: FastifyRequest, envelope?: string): Body {
  const body = request.body
  if (!body || typeof body !== 'object' || Array.isArray(body)) return {}
  if (envelope) {
    const inner = (body as Body)[envelope]
    if (inner && typeof inner === 'object' && !Array.isArray(inner)) return inner as Body
  }
  return body as Body
}

export function listEnvelope<T>(key: string, page: Page<T>, render: (item: T) => unknown) {
  return { next_cursor: page.next_cursor, previous_cursor: page.previous_cursor, [key]: page.items.map(render) }
}

/** Comma-separated integer ids (`ids=1,2,3`); anything else is 422 like Recharge. */
export function idsFilter(value: string | undefined, field = 'ids'): Set<number> | null {
  if (value === undefined) return null
  const ids = value.split(',').map((part) => Number(part.trim()))
  if (ids.some((id) => !Number.isSafeInteger(id))) throw fieldError(field, 'Not a valid integer.')
  return new Set(ids)
}

export function intFilter(value: string | undefined, field: string): number | null {
  if (value === undefined) return null
  const id = Number(value)
  if (!Number.isSafeInteger(id)) throw fieldError(field, 'Not a valid integer.')
  return id
}

export function optionalString(body: Body, key: string): string | null | undefined {
  const value = body[key]
  if (value === undefined) return undefined
  if (value === null) return null
  return String(value)
}

/**
 * The records a list filtered by `customer_id` (or by an existing `address_id`) can match: that customer's, from the
 * index, instead of every record of the store. The route still applies every filter to what this returns.
 */
export function scopedRecords<V extends { id: number }>(
  state: SimState,
  records: CustomerRecords<V>,
  scope: { customerId: number | null; addressId?: number | null },
): Iterable<V> {
  if (scope.customerId !== null) return records.ofCustomer(scope.customerId)
  const address = scope.addressId == null ? undefined : state.addresses.get(scope.addressId)
  return address ? records.ofCustomer(address.customer_id) : records.values()
}

const DATE_FILTERS = ['created_at_min', 'created_at_max', 'updated_at_min', 'updated_at_max'] as const

/**
 * The created/updated date-range filters every list accepts, validated like Recharge
 * (`{"errors": {"updated_at_max": ["Invalid date: test. Must be a valid ISO-8601 datetime string"]}}`).
 */
export function dateRangeFilter(
  filters: Record<string, string>,
): (record: { created_at: string; updated_at: string }) => boolean {
  const bounds: { field: 'created_at' | 'updated_at'; min: boolean; at: number }[] = []
  for (const key of DATE_FILTERS) {
    const value = filters[key]
    if (value === undefined) continue
    const at = parseTimestamp(value)
    if (at === null) throw fieldError(key, `Invalid date: ${value}. Must be a valid ISO-8601 datetime string`)
    bounds.push({ field: key.startsWith('created') ? 'created_at' : 'updated_at', min: key.endsWith('_min'), at })
  }
  if (bounds.length === 0) return () => true
  return (record) =>
    bounds.every((bound) => {
      const value = recordTime(record[bound.field])
      return bound.min ? value >= bound.at : value <= bound.at
    })
}

/**
 * A record's timestamp in ms, remembered: reconciliation pages a whole store with `updated_at_min`, and parsing
 * every record's date on every page is most of what such a request costs. Timestamps repeat across records and
 * requests; the memo is simply dropped when it grows past its bound.
 */
const recordTimes = new Map<string, number>()
const RECORD_TIMES_BOUND = 200_000

function recordTime(value: string): number {
  let ms = recordTimes.get(value)
  if (ms === undefined) {
    ms = parseTimestamp(value) ?? 0
    if (recordTimes.size >= RECORD_TIMES_BOUND) recordTimes.clear()
    recordTimes.set(value, ms)
  }
  return ms
}
