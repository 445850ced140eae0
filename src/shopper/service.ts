import type { FastifyBaseLogger } from 'fastify'
import type { Cache } from '../cache/types.ts'
import type { CatalogService } from '../catalog/types.ts'
import type { Metrics } from '../infra/metrics/registry.ts'
import type { RedisClient } from '../infra/redis.ts'
import { AddressActions } from './addresses.ts'
import { ChargeActions } from './charges.ts'
import { DeliveryScheduleService } from './delivery-schedule.ts'
import { DiscountActions } from './discounts.ts'
import { OfferViews } from './offer-views.ts'
import { OnetimeActions } from './onetimes.ts'
import { createOrderCursorCodec } from './order-cursor.ts'
import { type OrderLock, OrderNowActions } from './order-now.ts'
import { OrderHistory } from './orders.ts'
import { PauseActions } from './pause.ts'
import { MemoryPauseStore, RedisPauseStore } from './pause-store.ts'
import { PaymentMethodService } from './payment-methods.ts'
import { WritePipeline } from './pipeline.ts'
import { loadPolicy, type Policy } from './policy.ts'
import { MemoryPortalLinkStore, type PortalLinkStore, RedisPortalLinkStore } from './portal-links.ts'
import { ProfileActions } from './profile.ts'
import type { ShopperMirror } from './records.ts'
import { type RereadAllowance, ShopperRecords } from './records.ts'
import { RetentionOffers } from './retention-offers.ts'
import { SubscriptionActions } from './subscriptions.ts'
import { SwapRules } from './swap.ts'
import { UpdateLinkLimit } from './update-link-limit.ts'
import type { ShopperUpstream } from './upstream.ts'
import { DEFAULT_WRITES_PER_MINUTE, ShopperWriteLimit } from './write-limit.ts'

/** Everything the shopper routes use, built once per app (src/plugins/shopper.ts). */
export interface ShopperServices {
  policy: Policy
  records: ShopperRecords
  /** The shared write steps (policy → budget → ownership → write → confirm → invalidate) each resource's actions use. */
  pipeline: WritePipeline
  subscriptions: SubscriptionActions
  addresses: AddressActions
  onetimes: OnetimeActions
  /** Skip or restore any upcoming delivery, by charge or by date. */
  charges: ChargeActions
  deliverySchedule: DeliveryScheduleService
  /** Masked payment methods, the update-link email, and what GET /v1/me says about a failed payment. */
  paymentMethods: PaymentMethodService
  profile: ProfileActions
  /** Order history pages (signed cursors) and single orders. */
  orders: OrderHistory
  /** Retention: pause/resume, discount codes, order now, and the cancellation offers that use them. */
  pauses: PauseActions
  discounts: DiscountActions
  orderNow: OrderNowActions
  offers: RetentionOffers
  portalLinks: PortalLinkStore
  upstream: () => ShopperUpstream
}

/** Test and embedding knobs of the shopper API (`buildApp(config, { shopper: {...} })`). */
export interface ShopperTuning {
  /** Prefix of the shopper cache names and Redis keys, so parallel test files sharing one Redis never collide. */
  namespace?: string
  /** Writes one shopper may make per minute (default 30). */
  writesPerMinute?: number
  /** Age a cached list must reach before an unknown id re-reads it (default 2 s; tests use 0 for the worst case). */
  rereadAfterMs?: number
  /** One "update your payment information" email per shopper per this many ms (default 10 minutes). */
  updateLinkIntervalMs?: number
}

export interface ShopperServiceDeps {
  policyFile: string | undefined
  redisKeyPrefix: string
  redis: RedisClient | null
  cache: Cache
  log: FastifyBaseLogger
  /** Resolved on use: the Recharge client and the catalog are built by plugins of their own. */
  upstream: () => ShopperUpstream
  catalog: () => CatalogService | undefined
  tuning?: ShopperTuning | undefined
  /** Charges a shopper's ownership re-read to their share of the budget; without it re-reads are unbounded. */
  rereadAllowance?: RereadAllowance | undefined
  /** Key of the order-history cursors' MAC (CUSTOMER_TOKEN_SECRET); a per-process key when unset. */
  cursorSecret?: string | undefined
  /** Where the retention offer counters go (recharge_bridge_retention_offers_total); uncounted without it. */
  metrics?: Metrics | undefined
  /** The per-charge lock of "order now" (the checkout's charge lock, keyed under its own prefix). */
  orderNowLock: OrderLock
  /** The account mirror (MIRROR=on), read before the cache and Recharge; null or absent when off. */
  mirror?: ShopperMirror | null | undefined
}

export function createShopperServices(deps: ShopperServiceDeps): ShopperServices {
  const { redis, log, upstream, catalog } = deps
  const policy = loadPolicy(deps.policyFile)
  const namespace = deps.tuning?.namespace ?? ''
  const records = new ShopperRecords(
    deps.cache,
    upstream,
    namespace,
    deps.rereadAllowance,
    deps.tuning?.rereadAfterMs,
    deps.mirror ?? null,
  )
  const writeLimit = new ShopperWriteLimit({
    redis,
    log,
    limit: deps.tuning?.writesPerMinute ?? DEFAULT_WRITES_PER_MINUTE,
    prefix: `${deps.redisKeyPrefix}:${namespace}shopper-writes:`,
  })
  const pipeline = new WritePipeline({ records, upstream, policy, writeLimit })
  const subscriptions = new SubscriptionActions({ pipeline, swap: new SwapRules({ policy, catalog }) })
  const addresses = new AddressActions({ pipeline })
  const onetimes = new OnetimeActions({ pipeline, catalog })
  const deliverySchedule = new DeliveryScheduleService({ pipeline })
  const charges = new ChargeActions({ pipeline, schedule: deliverySchedule })
  const updateLinkLimit = new UpdateLinkLimit({
    redis,
    log,
    prefix: `${deps.redisKeyPrefix}:${namespace}update-link:`,
    ...(deps.tuning?.updateLinkIntervalMs !== undefined ? { intervalMs: deps.tuning.updateLinkIntervalMs } : {}),
  })
  const paymentMethods = new PaymentMethodService({ pipeline, cache: deps.cache, namespace, limit: updateLinkLimit })
  const profile = new ProfileActions({ pipeline })
  const orders = new OrderHistory({
    records,
    upstream,
    cache: deps.cache,
    namespace,
    cursors: createOrderCursorCodec(deps.cursorSecret),
  })
  const keyPrefix = `${deps.redisKeyPrefix}:${namespace}`
  const pauses = new PauseActions({
    pipeline,
    store: redis ? new RedisPauseStore(redis, log, `${keyPrefix}pauses:`) : new MemoryPauseStore(),
  })
  const discounts = new DiscountActions({ pipeline })
  const orderNow = new OrderNowActions({ pipeline, lock: deps.orderNowLock })
  const offerCounter = deps.metrics?.counter(
    'recharge_bridge_retention_offers_total',
    'Cancellation offers shown, accepted and declined (a cancel with the reason they were shown for)',
    ['event', 'kind', 'offer', 'source'],
  )
  const offers = new RetentionOffers({
    pipeline,
    cache: deps.cache,
    namespace,
    subscriptions,
    pauses,
    discounts,
    views: new OfferViews({ redis, log, prefix: `${keyPrefix}offers-shown:` }),
    log,
    count: (event, offer) => offerCounter?.inc({ event, kind: offer.kind, offer: offer.id, source: offer.source }),
  })
  subscriptions.cancelFlow = offers
  const portalLinks = redis
    ? new RedisPortalLinkStore(redis, log, `${deps.redisKeyPrefix}:${namespace}portal-link:`)
    : new MemoryPortalLinkStore()
  return {
    policy,
    records,
    pipeline,
    subscriptions,
    addresses,
    onetimes,
    charges,
    deliverySchedule,
    paymentMethods,
    profile,
    orders,
    pauses,
    discounts,
    orderNow,
    offers,
    portalLinks,
    upstream,
  }
}
