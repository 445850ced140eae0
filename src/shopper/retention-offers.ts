import type { FastifyBaseLogger } from 'fastify'
import { callOptions } from '../cache/call-options.ts'
import type { Cache, CachedFunction } from '../cache/types.ts'
import { AppError } from '../errors.ts'
import type { RetentionStrategy } from '../recharge/schemas/retention.ts'
import type { Subscription } from '../recharge/schemas/subscriptions.ts'
import type { DiscountActions } from './discounts.ts'
import type { OfferViews, ShownOffers } from './offer-views.ts'
import type { PauseActions } from './pause.ts'
import type { ActionContext, WritePipeline } from './pipeline.ts'
import type { PolicyOffer } from './policy.ts'
import { chargeFor, requireAllowed, unprocessable } from './policy-checks.ts'
import type { SubscriptionActions } from './subscriptions.ts'

export type OfferKind = 'discount' | 'skip' | 'pause' | 'swap'
export type OfferEvent = 'shown' | 'accepted' | 'declined'

/** An offer as the shopper sees it. `source` says where the merchant configured it. */
export interface Offer {
  id: string
  kind: OfferKind
  source: 'policy' | 'recharge'
  title: string
  discount_code: string | null
  pause_days: number | null
  pause_deliveries: number | null
  external_product_id: string | null
  external_variant_id: string | null
}

export interface ReasonOffers {
  reason: string
  /** The store's words for this reason (a Recharge strategy's prevention text), or null. */
  message: string | null
  offers: Offer[]
}

/** What an accepted offer changed, with the subscription as it is now. */
export interface AcceptedOffer {
  offer: Offer
  subscription: Subscription
}

const STRATEGIES_TTL_MS = 5 * 60_000
const MAX_STRATEGIES = 250

/**
 * The cancellation flow's offers: before a shopper cancels, each reason comes with what the store offers instead
 * (a discount on the next charges, skipping the next delivery, a pause, a swap to another product). Offers come from
 * the policy file (`retention.offers`, per reason) and from the store's Recharge retention strategies (cached; their
 * reasons are added to the list, and a cancel may name them). Accepting one runs the matching action (pause,
 * address discount, skip, swap), with that action's own policy switch and bounds; the cancel stays the last step.
 *
 * Counted in `recharge_bridge_retention_offers_total{event, kind, offer, source}`: `shown` per offer listed,
 * `accepted` per accept, and `declined` for each offer shown for a reason when the shopper then cancels with that
 * reason (within a day of seeing them, see src/shopper/offer-views.ts).
 */
export class RetentionOffers {
  private readonly pipeline: WritePipeline
  private readonly subscriptions: SubscriptionActions
  private readonly pauses: PauseActions
  private readonly discounts: DiscountActions
  private readonly views: OfferViews
  private readonly strategies: CachedFunction<string, RetentionStrategy[]>
  private readonly count: (event: OfferEvent, offer: Pick<Offer, 'id' | 'kind' | 'source'>) => void
  private readonly log: FastifyBaseLogger

  constructor(options: {
    pipeline: WritePipeline
    cache: Cache
    namespace: string
    subscriptions: SubscriptionActions
    pauses: PauseActions
    discounts: DiscountActions
    views: OfferViews
    log: FastifyBaseLogger
    count?: (event: OfferEvent, offer: Pick<Offer, 'id' | 'kind' | 'source'>) => void
  }) {
    this.pipeline = options.pipeline
    this.subscriptions = options.subscriptions
    this.pauses = options.pauses
    this.discounts = options.discounts
    this.views = options.views
    this.log = options.log
    this.count = options.count ?? (() => {})
    this.strategies = options.cache.define<string, RetentionStrategy[]>(`${options.namespace}retention-strategies`, {
      key: () => 'store',
      ttlMs: STRATEGIES_TTL_MS,
      staleWhileRevalidateMs: STRATEGIES_TTL_MS,
      staleIfErrorMs: 60 * 60_000,
      tags: () => ['store', 'retention-strategies'],
      fetch: async (_store, context) => {
        const page = await this.pipeline
          .upstream()
          .retention.strategies({ limit: MAX_STRATEGIES }, callOptions(context))
        return page.items
      },
    })
  }

  /** The reasons and their offers for this subscription; each listed offer is counted as shown. */
  async list(context: ActionContext, subscriptionId: string): Promise<ReasonOffers[]> {
    requireAllowed(this.pipeline.policy, 'cancellation_offers')
    const subscription = await this.activeSubscription(context, subscriptionId)
    const reasons = await this.reasonsFor(context, subscription)
    const shown: ShownOffers = {}
    for (const entry of reasons) {
      shown[entry.reason] = entry.offers.map(({ id, kind, source }) => ({ id, kind, source }))
      for (const offer of entry.offers) this.count('shown', offer)
    }
    await this.views.shown(subscription.id, shown)
    return reasons
  }

  async accept(
    context: ActionContext,
    subscriptionId: string,
    offerId: string,
    choice: { external_variant_id?: string | undefined; external_product_id?: string | undefined },
  ): Promise<AcceptedOffer> {
    requireAllowed(this.pipeline.policy, 'cancellation_offers')
    const subscription = await this.activeSubscription(context, subscriptionId)
    const offer = (await this.reasonsFor(context, subscription))
      .flatMap((entry) => entry.offers)
      .find((candidate) => candidate.id === offerId)
    if (!offer) throw new AppError('NOT_FOUND', { detail: 'This subscription has no such offer.' })
    const updated = await this.apply(context, subscription, offer, choice)
    this.count('accepted', offer)
    await this.views.take(subscription.id)
    return { offer, subscription: updated }
  }

  /** Reasons a cancel may name besides the policy's: those of the store's retention strategies. */
  async extraReasons(): Promise<string[]> {
    if (!this.pipeline.policy.retention.recharge_strategies) return []
    return (await this.storeStrategies()).map((strategy) => strategy.reason).filter((reason) => reason !== null)
  }

  /** After a cancel: the offers shown for its reason were declined. */
  async cancelled(subscriptionId: string, reason: string): Promise<void> {
    const shown = await this.views.take(subscriptionId)
    for (const offer of shown?.[reason] ?? []) {
      this.count('declined', { id: offer.id, kind: offer.kind as OfferKind, source: offer.source as Offer['source'] })
    }
  }

  private async apply(
    context: ActionContext,
    subscription: Subscription,
    offer: Offer,
    choice: { external_variant_id?: string | undefined; external_product_id?: string | undefined },
  ): Promise<Subscription> {
    switch (offer.kind) {
      case 'discount': {
        await this.discounts.applyToAddress(context, subscription.address_id, offer.discount_code ?? '')
        return this.pipeline.records.ownSubscription(context.shopper.customerId, subscription.id)
      }
      case 'skip':
        return this.subscriptions.skip(context, subscription.id)
      case 'pause':
        return this.pauses.pause(
          context,
          subscription.id,
          offer.pause_deliveries !== null ? { deliveries: offer.pause_deliveries } : { days: offer.pause_days ?? 0 },
        )
      case 'swap': {
        const variant = offer.external_variant_id ?? choice.external_variant_id
        const product = offer.external_product_id ?? choice.external_product_id
        if (!variant) {
          throw unprocessable('Choose the variant to swap to (one of variant_options).', [
            { field: 'body.external_variant_id', message: 'required for this offer' },
          ])
        }
        return this.subscriptions.update(context, subscription.id, {
          external_variant_id: variant,
          ...(product ? { external_product_id: product } : {}),
        })
      }
    }
  }

  private async activeSubscription(context: ActionContext, id: string): Promise<Subscription> {
    const subscription = await this.pipeline.records.ownSubscription(context.shopper.customerId, id)
    if (subscription.status !== 'active') throw unprocessable('Only an active subscription can be cancelled.')
    return subscription
  }

  /** The policy's reasons (in order), then the strategies' reasons it lacks; each with the offers that apply now. */
  private async reasonsFor(context: ActionContext, subscription: Subscription): Promise<ReasonOffers[]> {
    const { policy, records } = this.pipeline
    const charges = (await records.upcomingCharges(context.shopper.customerId)).rows
    const applies = (offer: Offer): boolean => {
      switch (offer.kind) {
        case 'discount':
          return policy.actions.apply_discount && offer.discount_code !== null
        case 'skip':
          return (
            policy.actions.skip &&
            subscription.is_skippable !== false &&
            chargeFor(subscription.id, charges, 'queued') !== null
          )
        case 'pause':
          return policy.actions.pause && subscription.next_charge_scheduled_at !== null
        case 'swap':
          return policy.actions.swap_variant && subscription.is_swappable !== false
      }
    }
    const reasons: ReasonOffers[] = policy.cancel.reasons.map((reason) => ({
      reason,
      message: null,
      offers: (policy.retention.offers[reason] ?? []).map(policyOffer).filter(applies),
    }))
    if (!policy.retention.recharge_strategies) return reasons
    for (const strategy of await this.storeStrategies()) {
      if (!strategy.reason) continue
      const key = strategy.reason.trim().toLowerCase()
      let entry = reasons.find((candidate) => candidate.reason.trim().toLowerCase() === key)
      if (!entry) {
        entry = { reason: strategy.reason, message: null, offers: [] }
        reasons.push(entry)
      }
      entry.message ??= strategy.prevention_text
      const offer = strategyOffer(strategy, policy.retention.delay_days, policy.pause.max_days)
      if (offer && applies(offer)) entry.offers.push(offer)
    }
    return reasons
  }

  /** The store's strategies, cached; none while Recharge cannot tell (the cancel flow never depends on them). */
  private async storeStrategies(): Promise<RetentionStrategy[]> {
    try {
      return (await this.strategies('store')).value
    } catch (error) {
      this.log.warn({ err: { message: (error as Error).message } }, 'retention strategies unavailable')
      return []
    }
  }
}

const DEFAULT_TITLES: Record<OfferKind, string> = {
  discount: 'A discount on your next orders',
  skip: 'Skip your next delivery',
  pause: 'Take a break',
  swap: 'Try another product',
}

function policyOffer(offer: PolicyOffer): Offer {
  return {
    id: offer.id,
    kind: offer.kind,
    source: 'policy',
    title: offer.title ?? DEFAULT_TITLES[offer.kind],
    discount_code: offer.kind === 'discount' ? offer.code : null,
    pause_days: offer.kind === 'pause' ? (offer.days ?? null) : null,
    pause_deliveries: offer.kind === 'pause' ? (offer.deliveries ?? null) : null,
    external_product_id: offer.kind === 'swap' ? (offer.external_product_id ?? null) : null,
    external_variant_id: offer.kind === 'swap' ? (offer.external_variant_id ?? null) : null,
  }
}

const INCENTIVE_KINDS: Record<string, OfferKind> = {
  discount: 'discount',
  skip_charge: 'skip',
  delay_subscription: 'pause',
  swap_product: 'swap',
}

function strategyOffer(strategy: RetentionStrategy, delayDays: number, maxDays: number): Offer | null {
  const kind = strategy.incentive_type ? INCENTIVE_KINDS[strategy.incentive_type] : undefined
  if (!kind) return null
  return {
    id: `recharge-${strategy.id}`,
    kind,
    source: 'recharge',
    title: DEFAULT_TITLES[kind],
    discount_code: kind === 'discount' ? strategy.discount_code : null,
    pause_days: kind === 'pause' ? Math.min(delayDays, maxDays) : null,
    pause_deliveries: null,
    external_product_id: null,
    external_variant_id: null,
  }
}
