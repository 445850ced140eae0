import { createHash } from 'node:crypto'
import { callOptions } from '../cache/call-options.ts'
import { isNotFound } from '../cache/errors.ts'
import type { Cache, CachedFunction } from '../cache/types.ts'
import { AppError } from '../errors.ts'
import type { CustomerSubject } from '../identity/customer-token.ts'
import type { CustomerIdentity } from '../identity/resolver.ts'
import type { Page } from '../recharge/pagination.ts'
import type { Address } from '../recharge/schemas/addresses.ts'
import type { Charge } from '../recharge/schemas/charges.ts'
import type { Customer, DeliverySchedule } from '../recharge/schemas/customers.ts'
import type { Onetime } from '../recharge/schemas/onetimes.ts'
import type { Order } from '../recharge/schemas/orders.ts'
import type { PaymentMethod } from '../recharge/schemas/payment-methods.ts'
import type { Subscription } from '../recharge/schemas/subscriptions.ts'
import { MirroredRecords, mirroredRows, type ShopperMirror } from './mirrored-records.ts'
import { MAX_SHOPPER_ROWS, type ShopperUpstream } from './upstream.ts'

/**
 * A shopper's records, read through the shared cache with keys and tags scoped to their Recharge customer id.
 * These lists are also the ownership proof: an id a shopper sends is looked up in THEIR list, and only an id found
 * there ever reaches Recharge. A miss re-reads the shopper's own list once (a subscription created a moment ago),
 * never the foreign id, and only while the shopper's re-read allowance lasts (SHOPPER_REREADS_PER_MINUTE calls):
 * past it, an id missing from the cached list is answered 404 at once, so probing ids cannot spend the store's bucket.
 */

/** May this shopper's ownership re-read spend `cost` upstream calls now? Taken when it answers true. */
export type RereadAllowance = (customerId: string, cost: number) => Promise<boolean>

/** Short: these change when the shopper acts (and we invalidate then) or when Recharge processes a charge. */
const LIST_TTL_MS = 30_000
const LIST_SWR_MS = 30_000
const LIST_STALE_IF_ERROR_MS = 10 * 60_000
/** The identity mapping (email/external id → customer) rarely changes. */
const IDENTITY_TTL_MS = 5 * 60_000
const IDENTITY_NEGATIVE_TTL_MS = 10_000
/** A list older than this is re-read once when an id is not in it. */
const OWNERSHIP_REFRESH_AFTER_MS = 2_000

export type { ShopperMirror }

export type ShopperResource = 'subscription' | 'charge' | 'address' | 'order' | 'onetime'

/** The schedule is read once per shopper for the longest window offered (26 weeks) and cut to the weeks asked. */
export const SCHEDULE_DAYS = 26 * 7
const SCHEDULE_MAX_DATES = 100

/** Thrown by the identity fetch when Recharge has no customer for a subject; status 404 makes it negatively cached. */
class UnknownCustomerError extends Error {
  readonly status = 404
  constructor() {
    super('no Recharge customer for this subject')
    this.name = 'UnknownCustomerError'
  }
}

async function allRows<T>(
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
  limit = MAX_SHOPPER_ROWS,
): Promise<T[]> {
  const rows: T[] = []
  let cursor: string | undefined
  do {
    const page = await fetchPage(cursor)
    rows.push(...page.items)
    cursor = page.nextCursor ?? undefined
  } while (cursor && rows.length < limit)
  return rows.slice(0, limit)
}

/** The cache tag of a subject's identity entry, negative ones included (src/checkout drops it after a purchase). */
export function subjectTag(subject: CustomerSubject): string {
  return `customer-subject:${subjectKey(subject)}`
}

/**
 * Keys already computed, by subject object: verified tokens are remembered (customer-token.ts), so each request with
 * the same token brings the same subject object, and the hash is computed once per token instead of per request.
 */
const subjectKeys = new WeakMap<CustomerSubject, string>()

function subjectKey(subject: CustomerSubject): string {
  let key = subjectKeys.get(subject)
  if (key === undefined) {
    // Hashed: emails are personal data and stay out of Redis key names.
    const value = subject.kind === 'email' ? `email:${subject.email}` : `external:${subject.externalCustomerId}`
    key = createHash('sha256').update(value).digest('base64url')
    subjectKeys.set(subject, key)
  }
  return key
}

export function toIdentity(customer: Customer): CustomerIdentity {
  return { customerId: customer.id, email: customer.email ?? '', externalCustomerId: customer.external_customer_id }
}

export interface ListResult<T> {
  rows: T[]
  /** The cached JSON of `rows` and how it was served, for X-Cache. */
  state: 'HIT' | 'MISS' | 'STALE'
  ageMs: number
}

export class ShopperRecords {
  private readonly upstream: () => ShopperUpstream
  private readonly cache: Cache
  private readonly identityBySubject: CachedFunction<CustomerSubject, CustomerIdentity>
  private readonly profile: CachedFunction<string, Customer>
  private readonly subscriptionList: CachedFunction<string, Subscription[]>
  private readonly chargeList: CachedFunction<string, Charge[]>
  private readonly orderList: CachedFunction<string, Order[]>
  private readonly addressList: CachedFunction<string, Address[]>
  private readonly onetimeList: CachedFunction<string, Onetime[]>
  private readonly schedule: CachedFunction<string, DeliverySchedule['deliveries']>
  private readonly rereadAllowance: RereadAllowance
  private readonly rereadAfterMs: number
  private readonly mirrored: MirroredRecords

  constructor(
    cache: Cache,
    upstream: () => ShopperUpstream,
    namespace = '',
    rereadAllowance: RereadAllowance = async () => true,
    rereadAfterMs = OWNERSHIP_REFRESH_AFTER_MS,
    mirror: ShopperMirror | null = null,
  ) {
    this.mirrored = new MirroredRecords(mirror)
    this.rereadAfterMs = rereadAfterMs
    this.cache = cache
    this.upstream = upstream
    this.rereadAllowance = rereadAllowance
    const listPolicy = {
      ttlMs: LIST_TTL_MS,
      staleWhileRevalidateMs: LIST_SWR_MS,
      staleIfErrorMs: LIST_STALE_IF_ERROR_MS,
    }

    this.identityBySubject = cache.define<CustomerSubject, CustomerIdentity>(`${namespace}shopper-identity`, {
      key: subjectKey,
      ttlMs: IDENTITY_TTL_MS,
      staleWhileRevalidateMs: IDENTITY_TTL_MS,
      staleIfErrorMs: 60 * 60_000,
      negativeTtlMs: IDENTITY_NEGATIVE_TTL_MS,
      // Read on every authenticated request and never changed by a caller: parse an entry once, not per request.
      shareValue: true,
      // `customer-subject:` also tags "no such customer" entries, so a processed checkout (src/checkout) can drop
      // the negative lookup of a first-time buyer's email at once.
      tags: (subject, identity) => [subjectTag(subject), ...(identity ? [`customer:${identity.customerId}`] : [])],
      fetch: async (subject, context) => {
        const customers = this.upstream().customers
        const options = callOptions(context)
        const customer =
          subject.kind === 'email'
            ? await customers.findByEmail(subject.email, options)
            : await customers.findByExternalId(subject.externalCustomerId, options)
        if (!customer) throw new UnknownCustomerError()
        // Only the identity is cached: never the customer hash.
        return toIdentity(customer)
      },
    })

    this.profile = cache.define<string, Customer>(`${namespace}shopper-profile`, {
      key: (customerId) => customerId,
      ...listPolicy,
      tags: (customerId) => [`customer:${customerId}`],
      fetch: async (customerId, context) => {
        const customer = await this.upstream().customers.get(customerId, callOptions(context))
        // The hash authenticates the hosted portal: it never enters the cache.
        return { ...customer, hash: null }
      },
    })

    this.subscriptionList = cache.define<string, Subscription[]>(`${namespace}shopper-subscriptions`, {
      key: (customerId) => customerId,
      ...listPolicy,
      tags: (customerId, rows) => [`customer:${customerId}`, ...(rows ?? []).map((row) => `subscription:${row.id}`)],
      fetch: (customerId, context) =>
        allRows((cursor) =>
          this.upstream().subscriptions.list({ customer_id: customerId }, { cursor, limit: 250 }, callOptions(context)),
        ),
    })

    this.chargeList = cache.define<string, Charge[]>(`${namespace}shopper-upcoming-charges`, {
      key: (customerId) => customerId,
      ...listPolicy,
      tags: (customerId, rows) => [`customer:${customerId}`, ...(rows ?? []).map((row) => `charge:${row.id}`)],
      fetch: async (customerId, context) => {
        const charges = this.upstream().charges
        const options = callOptions(context)
        // Upcoming = queued plus skipped (a skipped delivery can be restored until its date).
        const [queued, skipped] = await Promise.all(
          ['queued', 'skipped'].map((status) =>
            allRows((cursor) =>
              charges.list(
                { customer_id: customerId, status, sort_by: 'scheduled_at-asc' },
                { cursor, limit: 250 },
                options,
              ),
            ),
          ),
        )
        return [...(queued ?? []), ...(skipped ?? [])].sort(byScheduledAt)
      },
    })

    this.orderList = cache.define<string, Order[]>(`${namespace}shopper-orders`, {
      key: (customerId) => customerId,
      ...listPolicy,
      tags: (customerId, rows) => [`customer:${customerId}`, ...(rows ?? []).map((row) => `order:${row.id}`)],
      // The newest MAX_SHOPPER_ROWS: the ownership proof of GET /v1/orders/:id and the cancel policy's count.
      fetch: (customerId, context) =>
        allRows((cursor) =>
          this.upstream().orders.list(
            { customer_id: customerId, sort_by: 'processed_at-desc' },
            { cursor, limit: 250 },
            callOptions(context),
          ),
        ),
    })

    this.addressList = cache.define<string, Address[]>(`${namespace}shopper-addresses`, {
      key: (customerId) => customerId,
      ...listPolicy,
      tags: (customerId, rows) => [`customer:${customerId}`, ...(rows ?? []).map((row) => `address:${row.id}`)],
      fetch: (customerId, context) =>
        allRows((cursor) =>
          this.upstream().addresses.list({ customer_id: customerId }, { cursor, limit: 250 }, callOptions(context)),
        ),
    })

    // Onetimes are purchase items: webhooks tag them `subscription:<id>` (src/webhooks/event.ts), and onetime/deleted
    // names only the id, so each row carries that tag. Processed or cancelled ones are not upcoming.
    this.onetimeList = cache.define<string, Onetime[]>(`${namespace}shopper-onetimes`, {
      key: (customerId) => customerId,
      ...listPolicy,
      tags: (customerId, rows) => [`customer:${customerId}`, ...(rows ?? []).map((row) => `subscription:${row.id}`)],
      fetch: async (customerId, context) =>
        (
          await allRows((cursor) =>
            this.upstream().onetimes.list({ customer_id: customerId }, { cursor, limit: 250 }, callOptions(context)),
          )
        ).filter((row) => row.is_cancelled !== true),
    })

    this.schedule = cache.define<string, DeliverySchedule['deliveries']>(`${namespace}shopper-delivery-schedule`, {
      key: (customerId) => customerId,
      ...listPolicy,
      tags: (customerId, deliveries) => [
        `customer:${customerId}`,
        ...(deliveries ?? []).flatMap((delivery) =>
          delivery.orders.flatMap((order) => [
            ...(order.charge_id ? [`charge:${order.charge_id}`] : []),
            ...order.line_items.flatMap((line) =>
              line.subscription_id ? [`subscription:${line.subscription_id}`] : [],
            ),
          ]),
        ),
      ],
      fetch: async (customerId, context) =>
        (
          await this.upstream().customers.deliverySchedule(
            customerId,
            { future_interval: SCHEDULE_DAYS, delivery_count_future: SCHEDULE_MAX_DATES },
            callOptions(context),
          )
        ).deliveries,
    })
  }

  /**
   * The identity `identity()` would answer at once from this replica's memory (a fresh, trusted L1 entry), counted as
   * that hit; undefined when only `identity()` can tell (not cached here, due for its re-check, or a cached "unknown").
   */
  knownIdentity(subject: CustomerSubject): CustomerIdentity | undefined {
    return this.identityBySubject.peek(subject)?.value
  }

  /** The Recharge customer a token subject names, or null. */
  async identity(subject: CustomerSubject): Promise<CustomerIdentity | null> {
    const mirrored = await this.mirrored.identity(subject)
    if (mirrored) return mirrored
    try {
      return (await this.identityBySubject(subject)).value
    } catch (error) {
      if (isNotFound(error)) return null
      throw error
    }
  }

  async customer(customerId: string): Promise<{ value: Customer; state: 'HIT' | 'MISS' | 'STALE' }> {
    const mirrored = await this.mirrored.customer(customerId)
    if (mirrored) return { value: mirrored, state: 'HIT' }
    const result = await this.profile(customerId)
    return { value: result.value, state: result.state }
  }

  subscriptions(customerId: string): Promise<ListResult<Subscription>> {
    return this.fromMirror(customerId, mirroredRows.subscriptions, this.subscriptionList)
  }

  upcomingCharges(customerId: string): Promise<ListResult<Charge>> {
    return this.fromMirror(customerId, mirroredRows.charges, this.chargeList)
  }

  orders(customerId: string): Promise<ListResult<Order>> {
    return list(this.orderList, customerId)
  }

  addresses(customerId: string): Promise<ListResult<Address>> {
    return this.fromMirror(customerId, mirroredRows.addresses, this.addressList)
  }

  onetimes(customerId: string): Promise<ListResult<Onetime>> {
    return this.fromMirror(customerId, mirroredRows.onetimes, this.onetimeList)
  }

  /** Upcoming deliveries (SCHEDULE_DAYS ahead), as Recharge's delivery schedule lists them. */
  deliverySchedule(customerId: string): Promise<ListResult<DeliverySchedule['deliveries'][number]>> {
    return list(this.schedule, customerId)
  }

  async ownOnetime(customerId: string, id: string): Promise<Onetime> {
    return (
      (await this.mirrored.own(customerId, id, mirroredRows.onetimes)) ?? this.own(this.onetimeList, customerId, id, 1)
    )
  }

  async ownSubscription(customerId: string, id: string): Promise<Subscription> {
    return (
      (await this.mirrored.own(customerId, id, mirroredRows.subscriptions)) ??
      this.own(this.subscriptionList, customerId, id, 1)
    )
  }

  async ownAddress(customerId: string, id: string): Promise<Address> {
    return (
      (await this.mirrored.own(customerId, id, mirroredRows.addresses)) ?? this.own(this.addressList, customerId, id, 1)
    )
  }

  ownOrder(customerId: string, id: string): Promise<Order> {
    return this.own(this.orderList, customerId, id, 1)
  }

  async ownCharge(customerId: string, id: string): Promise<Charge> {
    // Upcoming charges are two reads (queued and skipped).
    return (
      (await this.mirrored.own(customerId, id, mirroredRows.charges)) ?? this.own(this.chargeList, customerId, id, 2)
    )
  }

  /** The shopper's mirrored payment methods, or null when the mirror cannot vouch for them (read the cache). */
  mirroredPaymentMethods(customerId: string): Promise<PaymentMethod[] | null> {
    return this.mirrored.rows(customerId, mirroredRows.paymentMethods)
  }

  private async fromMirror<T>(
    customerId: string,
    pick: (account: Parameters<typeof mirroredRows.subscriptions>[0]) => T[],
    cached: CachedFunction<string, T[]>,
  ): Promise<ListResult<T>> {
    const rows = await this.mirrored.rows(customerId, pick)
    return rows ? { rows, state: 'HIT', ageMs: 0 } : list(cached, customerId)
  }

  /**
   * After a write: drop the shopper's cached lists and profile (and anything tagged with the records named) on every
   * replica. Not the `customer:<id>` tag: that would also drop the identity mapping, which a write does not change,
   * and cost a customer lookup on the next request.
   */
  async changed(customerId: string, tags: readonly string[] = []): Promise<void> {
    await Promise.all([
      // Write-through: the mirror re-reads what the write may have changed before the shopper's next read.
      this.mirrored.afterWrite(customerId),
      this.subscriptionList.invalidate(customerId),
      this.chargeList.invalidate(customerId),
      this.orderList.invalidate(customerId),
      this.addressList.invalidate(customerId),
      this.onetimeList.invalidate(customerId),
      this.schedule.invalidate(customerId),
      this.profile.invalidate(customerId),
      tags.length > 0 ? this.cache.invalidateTags(tags) : undefined,
    ])
  }

  /** The ownership lookup for a list cached elsewhere (e.g. payment methods, src/shopper/payment-methods.ts). */
  async own<T extends { id: string }>(
    cached: CachedFunction<string, T[]>,
    customerId: string,
    id: string,
    rereadCost: number,
  ): Promise<T> {
    const first = await cached(customerId)
    const found = first.value.find((row) => row.id === id)
    if (found) return found
    if (
      first.state !== 'MISS' &&
      first.ageMs >= this.rereadAfterMs &&
      (await this.rereadAllowance(customerId, rereadCost))
    ) {
      // Maybe created since we cached the list: re-read the shopper's own list once.
      await cached.invalidate(customerId)
      const fresh = await cached(customerId)
      const again = fresh.value.find((row) => row.id === id)
      if (again) return again
    }
    // Not theirs (or does not exist): the same answer either way, and no upstream call for this id.
    throw new AppError('NOT_FOUND', { detail: 'No such record for this customer.' })
  }
}

async function list<T>(cached: CachedFunction<string, T[]>, customerId: string): Promise<ListResult<T>> {
  const result = await cached(customerId)
  return { rows: result.value, state: result.state, ageMs: result.ageMs }
}

function byScheduledAt(a: Charge, b: Charge): number {
  return (a.scheduled_at ?? '').localeCompare(b.scheduled_at ?? '') || a.id.localeCompare(b.id)
}
