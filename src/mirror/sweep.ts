import type { RedisClient } from '../infra/redis.ts'
import { FULL_PASS, type MirrorList } from './lists.ts'
import type { MirrorKind, MirrorRecord } from './records.ts'
import type { MirrorStore } from './store.ts'

/**
 * The sweep: deletions whose webhook was lost. Reconciliation lists by `updated_at_min`, which only returns records
 * that still exist, so a `subscription/deleted` or `customer/deleted` that never arrived would leave the record in the
 * mirror for good. Every MIRROR_SWEEP_SECONDS the leader pages the lists of the kinds Recharge deletes (customers,
 * addresses, subscriptions, onetimes: a few hundred calls for a store of 10,000 customers, in the background lane),
 * applying what it reads (newest wins, as in any pass) and noting every id listed; then it drops each mirrored record
 * of those kinds that was not listed and whose version is older than the sweep's start (less a margin), so a record
 * created while the sweep ran is never taken for a deleted one. Charges leave the mirror through reconciliation (it
 * lists them whatever their status); payment methods through the shopper's writes.
 */
export const SWEEP_PASS: readonly MirrorList[] = FULL_PASS.filter((list) =>
  ['customers', 'addresses', 'subscriptions', 'onetimes'].includes(list.name),
)

const SWEPT_KINDS = new Set<MirrorKind>(SWEEP_PASS.map((list) => list.kind))

/** Ids listed by a sweep in progress are kept this long (a sweep abandoned half-way leaves nothing behind for good). */
const SEEN_TTL_MS = 24 * 60 * 60_000

const BATCH = 100

function seenKey(store: MirrorStore, kind: MirrorKind): string {
  return `${store.prefix}:sweep:${kind}`
}

/** Note the ids of a page the sweep listed. */
export async function markListed(redis: RedisClient, store: MirrorStore, records: readonly MirrorRecord[]) {
  const byKind = new Map<MirrorKind, string[]>()
  for (const record of records) byKind.set(record.kind, [...(byKind.get(record.kind) ?? []), record.id])
  await Promise.all(
    [...byKind].map(([kind, ids]) =>
      redis.multi().sAdd(seenKey(store, kind), ids).pExpire(seenKey(store, kind), SEEN_TTL_MS).exec(),
    ),
  )
}

export interface SweepOutcome {
  customersForgotten: number
  recordsDropped: number
}

/**
 * Drop what the sweep did not list: a customer (and all their records) whose customer record was not listed, or a
 * child record that was not; only versions older than `olderThanMs`. Then forget the listed ids.
 */
export async function dropUnlisted(redis: RedisClient, store: MirrorStore, olderThanMs: number): Promise<SweepOutcome> {
  const outcome: SweepOutcome = { customersForgotten: 0, recordsDropped: 0 }
  let batch: string[] = []
  const sweepBatch = async () => {
    await Promise.all(batch.map((customerId) => sweepCustomer(redis, store, customerId, olderThanMs, outcome)))
    batch = []
  }
  for await (const customerId of store.customerIds()) {
    batch.push(customerId)
    if (batch.length >= BATCH) await sweepBatch()
  }
  await sweepBatch()
  await redis.del([...SWEPT_KINDS].map((kind) => seenKey(store, kind)))
  return outcome
}

async function sweepCustomer(
  redis: RedisClient,
  store: MirrorStore,
  customerId: string,
  olderThanMs: number,
  outcome: SweepOutcome,
): Promise<void> {
  const candidates: { kind: MirrorKind; id: string; at: number }[] = []
  for (const [field, at] of await store.versions(customerId)) {
    if (at >= olderThanMs) continue
    const colon = field.indexOf(':')
    const kind = (colon < 0 ? field : field.slice(0, colon)) as MirrorKind
    if (!SWEPT_KINDS.has(kind)) continue
    candidates.push({ kind, id: colon < 0 ? customerId : field.slice(colon + 1), at })
  }
  if (candidates.length === 0) return
  const listed = await Promise.all(
    candidates.map((candidate) => redis.sIsMember(seenKey(store, candidate.kind), candidate.id)),
  )
  const unlisted = candidates.filter((_, index) => !listed[index])
  if (unlisted.some((candidate) => candidate.kind === 'customer')) {
    await store.forget(customerId)
    outcome.customersForgotten += 1
    return
  }
  for (const candidate of unlisted) {
    if ((await store.drop(candidate.kind, candidate.id, customerId, candidate.at)) === 'applied') {
      outcome.recordsDropped += 1
    }
  }
}
