import { createHash } from 'node:crypto'
import type { RedisClient } from '../infra/redis.ts'
import { scanKeys } from '../infra/redis-topology.ts'
import type { MirrorAccount, MirrorCharge, MirrorKind, MirrorRecord } from './records.ts'

/**
 * The mirror's records in Redis. Each customer's records live in ONE hash, `<prefix>:{c<id>}:records` (a hash tag
 * per customer, so the scripts below touch one slot): field `customer`, `subscription:<id>`, `address:<id>`, …
 * holding the record's JSON, and `@<field>` holding its `updated_at` in epoch ms. A field whose JSON is gone but whose
 * `@` time stays is a tombstone: a charge that left the upcoming list, a deleted subscription. An account page is
 * one HGETALL.
 *
 * Beside them: `<prefix>:gone:{c<id>}` marks a deleted customer for a day (a late update cannot bring them back);
 * `<prefix>:owner:<kind>:<id>` names the customer of a child record (deletions carry only the id);
 * `<prefix>:email:<sha256>` and `<prefix>:external:<sha256>` index customers (hashed: no email in a key name);
 * `<prefix>:counts` counts customers, subscriptions and charges held. A field `!hold` in the records hash holds the
 * epoch ms until which reads of that customer fall back to Recharge (a write whose answer could not be mirrored).
 */

/** Apply one record version when it is not older than the one held. Answers {applied, presence delta, previous}. */
const APPLY = `
if redis.call('EXISTS', KEYS[2]) == 1 then return {-1, 0, ''} end
local at = '@' .. ARGV[1]
local current = redis.call('HGET', KEYS[1], at)
if current and tonumber(current) > tonumber(ARGV[2]) then return {0, 0, ''} end
local previous = redis.call('HGET', KEYS[1], ARGV[1])
local had = previous and 1 or 0
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HSET', KEYS[1], at, ARGV[2])
  return {1, -had, previous or ''}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3], at, ARGV[2])
return {1, 1 - had, previous or ''}
`

/** Forget a customer: every record, and a marker so late deliveries about them change nothing. */
const FORGET = `
local fields = redis.call('HKEYS', KEYS[1])
local customer = redis.call('HGET', KEYS[1], 'customer') or ''
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
local held = {}
for _, field in ipairs(fields) do
  local first = string.sub(field, 1, 1)
  if first ~= '@' and first ~= '!' then table.insert(held, field) end
end
return {customer, held}
`

const GONE_MS = 24 * 60 * 60_000
const HOLD = '!hold'

export type ApplyOutcome = 'applied' | 'older' | 'gone'

function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url')
}

function fieldOf(record: { kind: MirrorKind; id: string }): string {
  return record.kind === 'customer' ? 'customer' : `${record.kind}:${record.id}`
}

/** Which count a kind moves. */
const COUNTED: Partial<Record<MirrorKind, string>> = {
  customer: 'customers',
  subscription: 'subscriptions',
  charge: 'charges',
}

export interface MirrorCounts {
  customers: number
  subscriptions: number
  charges: number
}

export class MirrorStore {
  readonly prefix: string
  private readonly redis: RedisClient

  constructor(redis: RedisClient, prefix: string) {
    this.redis = redis
    this.prefix = prefix
  }

  recordsKey(customerId: string): string {
    return `${this.prefix}:{c${customerId}}:records`
  }

  private goneKey(customerId: string): string {
    return `${this.prefix}:gone:{c${customerId}}`
  }

  private ownerKey(kind: MirrorKind, id: string): string {
    return `${this.prefix}:owner:${kind}:${id}`
  }

  private emailKey(email: string): string {
    return `${this.prefix}:email:${digest(email.trim().toLowerCase())}`
  }

  private externalKey(externalId: string): string {
    return `${this.prefix}:external:${digest(externalId)}`
  }

  private get countsKey(): string {
    return `${this.prefix}:counts`
  }

  /** Apply a record version: kept when its `updated_at` is not older than the one held (newest wins). */
  async apply(record: MirrorRecord): Promise<ApplyOutcome> {
    const field = fieldOf(record)
    const [applied, delta, previous] = (await this.redis.eval(APPLY, {
      keys: [this.recordsKey(record.customerId), this.goneKey(record.customerId)],
      arguments: [field, String(record.updatedAtMs), record.json],
    })) as [number, number, string]
    if (applied === -1) return 'gone'
    if (applied === 0) return 'older'
    const count = COUNTED[record.kind]
    const followUps: Promise<unknown>[] = []
    if (count && delta !== 0) followUps.push(this.redis.hIncrBy(this.countsKey, count, delta))
    if (record.kind === 'customer') followUps.push(this.index(record, previous))
    // Only records held need their owner: a tombstone (a paid charge seen by reconciliation) is never deleted by id.
    else if (record.json) followUps.push(this.redis.set(this.ownerKey(record.kind, record.id), record.customerId))
    await Promise.all(followUps)
    return 'applied'
  }

  /** Point the email and external-id indexes at this customer; drop the entries of values they no longer have. */
  private async index(record: MirrorRecord, previousJson: string): Promise<void> {
    const previous = previousJson
      ? (JSON.parse(previousJson) as { email?: string | null; external_customer_id?: string | null })
      : {}
    const writes: Promise<unknown>[] = []
    const oldEmail = previous.email ?? null
    const oldExternal = previous.external_customer_id ?? null
    if (oldEmail && oldEmail.toLowerCase() !== (record.email ?? '').toLowerCase()) {
      writes.push(this.dropIndex(this.emailKey(oldEmail), record.customerId))
    }
    if (oldExternal && oldExternal !== record.externalCustomerId) {
      writes.push(this.dropIndex(this.externalKey(oldExternal), record.customerId))
    }
    if (record.json) {
      if (record.email) writes.push(this.redis.set(this.emailKey(record.email), record.customerId))
      if (record.externalCustomerId) {
        writes.push(this.redis.set(this.externalKey(record.externalCustomerId), record.customerId))
      }
    }
    await Promise.all(writes)
  }

  /** Delete an index entry only while it still names this customer (another may have taken the email since). */
  private async dropIndex(key: string, customerId: string): Promise<void> {
    if ((await this.redis.get(key)) === customerId) await this.redis.del(key)
  }

  /** A child record deleted in Recharge (the event carries only its id): tombstoned under its owner, if known. */
  async remove(kind: MirrorKind, id: string, atMs = Date.now()): Promise<ApplyOutcome | 'unknown'> {
    const ownerKey = this.ownerKey(kind, id)
    const owner = await this.redis.get(ownerKey)
    if (!owner) return 'unknown'
    const outcome = await this.apply({ kind, id, customerId: owner, updatedAtMs: atMs, json: '' })
    if (outcome === 'applied') await this.redis.del(ownerKey)
    return outcome
  }

  /**
   * A child record Recharge no longer lists (the sweep): tombstoned at the version held, so a newer version of it (a
   * webhook that was only late) still applies afterwards.
   */
  async drop(kind: MirrorKind, id: string, customerId: string, atMs: number): Promise<ApplyOutcome> {
    const outcome = await this.apply({ kind, id, customerId, updatedAtMs: atMs, json: '' })
    if (outcome === 'applied') await this.redis.del(this.ownerKey(kind, id))
    return outcome
  }

  /** The id of every customer this mirror holds records of (SCAN over the records hashes). */
  async *customerIds(): AsyncIterable<string> {
    const pattern = `${this.prefix}:{c*}:records`
    const start = `${this.prefix}:{c`.length
    for await (const batch of this.redis.scanIterator({ MATCH: pattern, COUNT: 500 })) {
      for (const key of batch as unknown as string[]) yield key.slice(start, key.length - '}:records'.length)
    }
  }

  /** A customer's record fields and the `updated_at` of each (epoch ms), without the JSON's content. */
  async versions(customerId: string): Promise<Map<string, number>> {
    const fields = await this.redis.hGetAll(this.recordsKey(customerId))
    const versions = new Map<string, number>()
    for (const field of Object.keys(fields)) {
      if (field.startsWith('@') || field.startsWith('!')) continue
      versions.set(field, Number(fields[`@${field}`] ?? 0))
    }
    return versions
  }

  /** Forget everything about a customer (Recharge reported them deleted). */
  async forget(customerId: string): Promise<void> {
    const [customerJson, fields] = (await this.redis.eval(FORGET, {
      keys: [this.recordsKey(customerId), this.goneKey(customerId)],
      arguments: [String(GONE_MS)],
    })) as [string, string[]]
    const followUps: Promise<unknown>[] = []
    if (customerJson) {
      followUps.push(
        this.index({ kind: 'customer', id: customerId, customerId, updatedAtMs: 0, json: '' }, customerJson),
      )
      followUps.push(this.redis.hIncrBy(this.countsKey, 'customers', -1))
    }
    const subscriptions = fields.filter((field) => field.startsWith('subscription:')).length
    const charges = fields.filter((field) => field.startsWith('charge:')).length
    if (subscriptions > 0) followUps.push(this.redis.hIncrBy(this.countsKey, 'subscriptions', -subscriptions))
    if (charges > 0) followUps.push(this.redis.hIncrBy(this.countsKey, 'charges', -charges))
    const owners = fields
      .filter((field) => field !== 'customer')
      .map((field) => {
        const [kind, id] = field.split(':') as [MirrorKind, string]
        return this.ownerKey(kind, id)
      })
    // One DEL per key: owner keys live in their own slots (one multi-key DEL would cross slots on a cluster).
    for (const owner of owners) followUps.push(this.redis.del(owner))
    await Promise.all(followUps)
  }

  /** The customer an email or external id names in the mirror, or null when the mirror has none. */
  async customerIdBy(reference: { email: string } | { externalCustomerId: string }): Promise<string | null> {
    const key = 'email' in reference ? this.emailKey(reference.email) : this.externalKey(reference.externalCustomerId)
    return this.redis.get(key)
  }

  /** Reads of this customer fall back to Recharge until `untilMs` (the mirror could not follow one of their writes). */
  async hold(customerId: string, untilMs: number): Promise<void> {
    await this.redis.hSet(this.recordsKey(customerId), HOLD, String(untilMs))
  }

  /**
   * Replace what the mirror holds of one customer's `kinds` with fresh lists (after the shopper's own write): every
   * listed record is applied, and a held record the lists no longer have is tombstoned at its own version, so a newer
   * version of it (a webhook) still applies afterwards.
   */
  async replace(customerId: string, kinds: readonly MirrorKind[], fresh: readonly MirrorRecord[]): Promise<void> {
    const fields = await this.redis.hGetAll(this.recordsKey(customerId))
    const listed = new Set(fresh.map((record) => fieldOf(record)))
    const gone: MirrorRecord[] = []
    for (const field of Object.keys(fields)) {
      const colon = field.indexOf(':')
      if (colon < 0 || field.startsWith('@') || listed.has(field)) continue
      const kind = field.slice(0, colon) as MirrorKind
      if (!kinds.includes(kind)) continue
      const at = Number(fields[`@${field}`] ?? 0)
      gone.push({ kind, id: field.slice(colon + 1), customerId, updatedAtMs: at, json: '' })
    }
    await Promise.all([...fresh, ...gone].map((record) => this.apply(record)))
    await this.redis.hDel(this.recordsKey(customerId), HOLD)
  }

  /** One customer's mirrored account, or null when the mirror does not hold the customer (or holds them back). */
  async account(customerId: string, now = Date.now()): Promise<MirrorAccount | null> {
    const fields = await this.redis.hGetAll(this.recordsKey(customerId))
    const customerJson = fields.customer
    if (!customerJson) return null
    if (Number(fields[HOLD] ?? 0) > now) return null
    const account: MirrorAccount = {
      customer: JSON.parse(customerJson),
      addresses: [],
      subscriptions: [],
      charges: [],
      onetimes: [],
      paymentMethods: [],
    }
    for (const [field, json] of Object.entries(fields)) {
      if (field.startsWith('@') || field.startsWith('!') || field === 'customer') continue
      const kind = field.slice(0, field.indexOf(':')) as MirrorKind
      const row = JSON.parse(json)
      if (kind === 'address') account.addresses.push(row)
      else if (kind === 'subscription') account.subscriptions.push(row)
      else if (kind === 'charge') account.charges.push(row)
      else if (kind === 'onetime') account.onetimes.push(row)
      else if (kind === 'payment_method') account.paymentMethods.push(row)
    }
    // Recharge's default order (id-desc) for the lists; upcoming charges by date, as the cached list sorts them.
    for (const rows of [account.addresses, account.subscriptions, account.onetimes, account.paymentMethods]) {
      rows.sort(byIdDesc)
    }
    account.charges.sort(byScheduledAt)
    return account
  }

  async counts(): Promise<MirrorCounts> {
    const counts = await this.redis.hGetAll(this.countsKey)
    const read = (name: string) => Math.max(0, Number(counts[name] ?? 0))
    return { customers: read('customers'), subscriptions: read('subscriptions'), charges: read('charges') }
  }

  /** Every key of this mirror (tests and the operator's `reset`); SCAN, never KEYS. */
  async *keys(): AsyncIterable<string> {
    for await (const batch of scanKeys(this.redis, { MATCH: `${this.prefix}:*`, COUNT: 500 })) {
      yield* batch as unknown as string[]
    }
  }
}

function byIdDesc(a: { id: string }, b: { id: string }): number {
  return b.id.length - a.id.length || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0)
}

function byScheduledAt(a: MirrorCharge, b: MirrorCharge): number {
  return (a.scheduled_at ?? '').localeCompare(b.scheduled_at ?? '') || a.id.localeCompare(b.id)
}
