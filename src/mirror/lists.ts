import { z } from 'zod'
import { MAX_PAGE_SIZE, pageQuery } from '../recharge/pagination.ts'
import type { CallOptions, QueryValue, RechargeTransport } from '../recharge/types.ts'
import { type MirrorKind, type MirrorRecord, mirrorRecord } from './records.ts'

/** One Recharge list the mirror pages through: its path, the body key of its rows and the kind of record they are. */
export interface MirrorList {
  name: string
  path: string
  key: string
  kind: MirrorKind
  filters?: Record<string, QueryValue>
  /** Does the endpoint take `updated_at_min` (reconciliation)? */
  reconcilable: boolean
}

/**
 * The full pass, in order: customers first (the lookup indexes), then what hangs off them. Upcoming charges are two
 * lists (queued, skipped): a store's charge history is far larger and never shown on the account page.
 */
export const FULL_PASS: readonly MirrorList[] = [
  { name: 'customers', path: '/customers', key: 'customers', kind: 'customer', reconcilable: true },
  { name: 'addresses', path: '/addresses', key: 'addresses', kind: 'address', reconcilable: true },
  { name: 'subscriptions', path: '/subscriptions', key: 'subscriptions', kind: 'subscription', reconcilable: true },
  {
    name: 'charges-queued',
    path: '/charges',
    key: 'charges',
    kind: 'charge',
    filters: { status: 'queued' },
    reconcilable: false,
  },
  {
    name: 'charges-skipped',
    path: '/charges',
    key: 'charges',
    kind: 'charge',
    filters: { status: 'skipped' },
    reconcilable: false,
  },
  { name: 'onetimes', path: '/onetimes', key: 'onetimes', kind: 'onetime', reconcilable: true },
  {
    name: 'payment-methods',
    path: '/payment_methods',
    key: 'payment_methods',
    kind: 'payment_method',
    reconcilable: false,
  },
]

/**
 * Reconciliation re-lists what changed since the last pass. Charges are listed whatever their status, so a charge
 * that was paid or deleted while its webhook was lost leaves the upcoming list. Payment methods have no
 * `updated_at_min` filter: they are refreshed by the full pass and by the shopper's own writes only.
 */
export const RECONCILE_PASS: readonly MirrorList[] = [
  ...FULL_PASS.filter((list) => list.reconcilable),
  { name: 'charges', path: '/charges', key: 'charges', kind: 'charge', reconcilable: true },
]

export interface MirrorPage {
  records: MirrorRecord[]
  /** Rows the mirror could not use (no id, owner or updated_at): counted, never applied. */
  unusable: number
  nextCursor: string | null
}

const cursor = z
  .string()
  .nullish()
  .transform((value) => value || null)

/** One page of a list: rows parsed one by one for the mirror, so one odd row does not stop a pass. */
export async function fetchPage(
  transport: RechargeTransport,
  list: MirrorList,
  page: { cursor: string | null; updatedAtMin?: string | null; filters?: Record<string, QueryValue> },
  options: CallOptions,
): Promise<MirrorPage> {
  const schema = z
    .object({ [list.key]: z.array(z.unknown()), next_cursor: cursor })
    .transform((body) => ({ rows: body[list.key] as unknown[], nextCursor: body.next_cursor as string | null }))
  const filters: Record<string, QueryValue> = {
    ...list.filters,
    ...(page.updatedAtMin ? { updated_at_min: page.updatedAtMin } : {}),
    ...page.filters,
  }
  const body = await transport.send(
    {
      method: 'GET',
      path: list.path,
      query: pageQuery(filters, { cursor: page.cursor ?? undefined, limit: MAX_PAGE_SIZE }),
      schema,
    },
    options,
  )
  const records: MirrorRecord[] = []
  let unusable = 0
  for (const row of body.rows) {
    const record = mirrorRecord(list.kind, row)
    if (record) records.push(record)
    else unusable += 1
  }
  return { records, unusable, nextCursor: body.nextCursor }
}
