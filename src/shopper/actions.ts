import type { CatalogPlan, CatalogProduct, CatalogService } from '../catalog/types.ts'
import type { Shopper } from '../plugins/auth-types.ts'
import { isOutcomeUnknown } from '../recharge/errors.ts'
import type { AddressUpdate } from '../recharge/resources/addresses.ts'
import type { SubscriptionUpdate } from '../recharge/resources/subscriptions.ts'
import type { Address } from '../recharge/schemas/addresses.ts'
import type { Charge } from '../recharge/schemas/charges.ts'
import type { Subscription } from '../recharge/schemas/subscriptions.ts'
import type { Policy } from './policy.ts'
import {
  chargeFor,
  checkCancelReason,
  checkNextChargeDate,
  checkQuantity,
  notAllowed,
  requireAllowed,
  unprocessable,
} from './policy-checks.ts'
import type { ShopperRecords } from './records.ts'
import type { ShopperUpstream } from './upstream.ts'
import { showsAddressUpdate, showsSkipped, showsSubscriptionUpdate, showsUnskipped } from './write-confirmation.ts'
import type { ShopperWriteLimit } from './write-limit.ts'

/** How long the read confirming a write whose answer was lost may take. */
const CONFIRMING_READ_DEADLINE_MS = 2_000

/**
 * The self-serve actions. Each one: policy first (403 ACTION_NOT_ALLOWED), then ownership through the shopper's own
 * cached lists (404, no upstream call for a foreign id), then state and input checks (422), then the upstream write
 * with the record's address id (Recharge serialises writes per address), then invalidation of the shopper's tags.
 */
export interface SubscriptionPatch {
  next_charge_date?: string | undefined
  frequency?: { unit: 'day' | 'week' | 'month'; every: number } | undefined
  quantity?: number | undefined
  external_variant_id?: string | undefined
  /** Another catalog product to swap to (policy swap.scope = catalog), with one of its variants. */
  external_product_id?: string | undefined
}

export interface ActionContext {
  shopper: Shopper
  requestId: string
  signal?: AbortSignal
  /** Called right before the first upstream write; a throw stops the write (the Idempotency-Key guard). */
  beforeWrite?: () => Promise<void>
}

export class ShopperActions {
  private readonly records: ShopperRecords
  private readonly upstream: () => ShopperUpstream
  private readonly catalog: () => CatalogService | undefined
  private readonly writeLimit: ShopperWriteLimit | null
  readonly policy: Policy

  constructor(options: {
    records: ShopperRecords
    upstream: () => ShopperUpstream
    catalog: () => CatalogService | undefined
    policy: Policy
    writeLimit?: ShopperWriteLimit
  }) {
    this.writeLimit = options.writeLimit ?? null
    this.records = options.records
    this.upstream = options.upstream
    this.catalog = options.catalog
    this.policy = options.policy
  }

  async skip(context: ActionContext, subscriptionId: string): Promise<Subscription> {
    requireAllowed(this.policy, 'skip')
    await this.countWrite(context)
    const subscription = await this.activeSubscription(context, subscriptionId, 'skip')
    if (subscription.is_skippable === false) throw notAllowed('skip', 'This subscription cannot be skipped.')
    const charges = (await this.records.upcomingCharges(context.shopper.customerId)).rows
    const charge = chargeFor(subscription.id, charges, 'queued')
    if (!charge) throw unprocessable('This subscription has no upcoming delivery to skip.')
    return this.changeDelivery(context, subscription.id, charge, 'skip', showsSkipped)
  }

  async unskip(context: ActionContext, subscriptionId: string): Promise<Subscription> {
    requireAllowed(this.policy, 'unskip')
    await this.countWrite(context)
    const subscription = await this.activeSubscription(context, subscriptionId, 'unskip')
    const charges = (await this.records.upcomingCharges(context.shopper.customerId)).rows
    const charge = chargeFor(subscription.id, charges, 'skipped')
    if (!charge) throw unprocessable('This subscription has no skipped delivery to restore.')
    return this.changeDelivery(context, subscription.id, charge, 'unskip', showsUnskipped)
  }

  async cancel(
    context: ActionContext,
    subscriptionId: string,
    body: { reason: string; comment?: string | undefined },
  ): Promise<Subscription> {
    requireAllowed(this.policy, 'cancel')
    await this.countWrite(context)
    const subscription = await this.records.ownSubscription(context.shopper.customerId, subscriptionId)
    if (subscription.status !== 'active') throw unprocessable('This subscription is not active.')
    const comment = body.comment?.trim() || undefined
    checkCancelReason(this.policy, body.reason, comment)
    const minimum = this.policy.cancel.minimum_charges_before_cancel
    if (minimum > 0) {
      const delivered = await this.deliveredCount(context, subscription.id)
      if (delivered < minimum) {
        throw notAllowed(
          'cancel',
          `This subscription can be cancelled after ${minimum} deliveries; it has had ${delivered} so far.`,
        )
      }
    }
    const updated = await this.writing(
      context,
      [`subscription:${subscription.id}`],
      () =>
        this.upstream().subscriptions.cancel(
          subscription.id,
          { cancellation_reason: body.reason, ...(comment ? { cancellation_reason_comments: comment } : {}) },
          this.writeOptions(context, subscription.address_id),
        ),
      () => this.confirmShows(context, subscription.id, (current) => current.status === 'cancelled'),
    )
    return updated
  }

  async activate(context: ActionContext, subscriptionId: string): Promise<Subscription> {
    requireAllowed(this.policy, 'activate')
    await this.countWrite(context)
    const subscription = await this.records.ownSubscription(context.shopper.customerId, subscriptionId)
    if (subscription.status !== 'cancelled') throw unprocessable('Only a cancelled subscription can be reactivated.')
    const updated = await this.writing(
      context,
      [`subscription:${subscription.id}`],
      () =>
        this.upstream().subscriptions.activate(subscription.id, this.writeOptions(context, subscription.address_id)),
      () => this.confirmShows(context, subscription.id, (current) => current.status === 'active'),
    )
    return updated
  }

  async update(context: ActionContext, subscriptionId: string, patch: SubscriptionPatch): Promise<Subscription> {
    // Every requested change must be allowed before anything is looked up or sent.
    if (patch.next_charge_date !== undefined) requireAllowed(this.policy, 'reschedule')
    if (patch.frequency !== undefined) requireAllowed(this.policy, 'change_frequency')
    if (patch.quantity !== undefined) requireAllowed(this.policy, 'change_quantity')
    if (patch.external_variant_id !== undefined || patch.external_product_id !== undefined) {
      requireAllowed(this.policy, 'swap_variant')
    }
    await this.countWrite(context)

    const subscription = await this.activeSubscription(context, subscriptionId, 'change')
    if (patch.next_charge_date !== undefined) checkNextChargeDate(this.policy, patch.next_charge_date)
    if (patch.quantity !== undefined) checkQuantity(this.policy, patch.quantity)

    const fields: SubscriptionUpdate = {}
    if (patch.quantity !== undefined && patch.quantity !== subscription.quantity) fields.quantity = patch.quantity
    if (
      patch.frequency !== undefined ||
      patch.external_variant_id !== undefined ||
      patch.external_product_id !== undefined
    ) {
      Object.assign(fields, await this.catalogChanges(subscription, patch))
    }

    const options = this.writeOptions(context, subscription.address_id)
    return this.writing(
      context,
      [`subscription:${subscription.id}`],
      async () => {
        let updated = subscription
        if (Object.keys(fields).length > 0) {
          updated = await this.upstream().subscriptions.update(subscription.id, fields, options)
        }
        if (patch.next_charge_date !== undefined && patch.next_charge_date !== updated.next_charge_scheduled_at) {
          updated = await this.upstream().subscriptions.setNextChargeDate(
            subscription.id,
            patch.next_charge_date,
            options,
          )
        }
        return updated
      },
      () =>
        this.confirmShows(context, subscription.id, (current) =>
          showsSubscriptionUpdate(current, fields, patch.next_charge_date),
        ),
    )
  }

  async updateAddress(context: ActionContext, addressId: string, patch: AddressUpdate): Promise<Address> {
    requireAllowed(this.policy, 'update_address')
    await this.countWrite(context)
    const address = await this.records.ownAddress(context.shopper.customerId, addressId)
    return this.writing(
      context,
      [`address:${address.id}`],
      () => this.upstream().addresses.update(address.id, patch, this.writeOptions(context, address.id)),
      async () => {
        const current = await this.upstream().addresses.get(address.id, this.confirmingReadOptions(context))
        return showsAddressUpdate(current, patch) ? current : undefined
      },
    )
  }

  /** Frequency and variant changes, validated against the catalog's product, plans and variants. */
  private async catalogChanges(subscription: Subscription, patch: SubscriptionPatch): Promise<SubscriptionUpdate> {
    if (patch.frequency !== undefined && subscription.is_prepaid) {
      throw notAllowed('change_frequency', 'The frequency of a prepaid subscription cannot be changed here.')
    }
    const swapping = patch.external_variant_id !== undefined || patch.external_product_id !== undefined
    if (swapping && subscription.is_swappable === false) {
      throw notAllowed('swap_variant', 'This subscription cannot be swapped to another option.')
    }
    const productChange =
      patch.external_product_id !== undefined && patch.external_product_id !== subscription.external_product_id
    if (productChange && this.policy.swap.scope !== 'catalog') {
      throw notAllowed('swap_variant', 'Swapping to a different product is not offered by this store.')
    }
    if (productChange && patch.external_variant_id === undefined) {
      throw unprocessable('Choose which option of the new product to receive.', [
        { field: 'body.external_variant_id', message: 'is required with external_product_id' },
      ])
    }
    const product = await this.product(subscription, productChange ? patch.external_product_id : undefined)
    if (!product || (productChange && subscriptionPlans(product).length === 0)) {
      throw unprocessable(
        productChange
          ? 'That product is not offered as a subscription.'
          : 'This product is not in the store catalog, so its options cannot be changed here.',
        productChange
          ? [{ field: 'body.external_product_id', message: 'must be a subscription product of the catalog' }]
          : undefined,
      )
    }
    const fields: SubscriptionUpdate = {}
    const currentVariant = subscription.external_variant_id
    const variantId = patch.external_variant_id ?? currentVariant
    const variant = product.variants.find((candidate) => candidate.external_variant_id === variantId)
    if (!variant) {
      throw unprocessable('That option is not available for this product.', [
        { field: 'body.external_variant_id', message: 'must be one of variant_options' },
      ])
    }
    let plan = currentPlan(product, subscription)
    if (patch.frequency !== undefined) {
      const wanted = patch.frequency
      plan =
        subscriptionPlans(product).find(
          (candidate) => candidate.interval_unit === wanted.unit && candidate.order_interval_frequency === wanted.every,
        ) ?? null
      if (!plan) {
        const offered = frequencyOptions(product)
          .map((option) => `every ${option.every} ${option.unit}${option.every === 1 ? '' : 's'}`)
          .join(', ')
        throw unprocessable(`This product is delivered ${offered || 'on no other schedule'}.`, [
          { field: 'body.frequency', message: 'must be one of frequency_options' },
        ])
      }
      if (
        plan.interval_unit !== subscription.order_interval_unit ||
        plan.order_interval_frequency !== subscription.order_interval_frequency
      ) {
        fields.order_interval_unit = plan.interval_unit ?? undefined
        fields.order_interval_frequency = plan.order_interval_frequency ?? undefined
        fields.charge_interval_frequency = plan.charge_interval_frequency ?? plan.order_interval_frequency ?? undefined
      }
    }
    if (productChange && !plan) {
      throw unprocessable('The new product is not delivered on this schedule; choose one of its frequencies too.', [
        { field: 'body.frequency', message: "must be one of the new product's frequencies" },
      ])
    }
    if (productChange) {
      fields.external_product_id = { ecommerce: product.external_product_id }
      fields.product_title = product.title
      if (plan && !fields.order_interval_frequency) {
        // Same schedule, but the plan (and its charge frequency) is the new product's.
        fields.charge_interval_frequency = plan.charge_interval_frequency ?? plan.order_interval_frequency ?? undefined
      }
    }
    if (productChange || variant.external_variant_id !== currentVariant) {
      fields.external_variant_id = { ecommerce: variant.external_variant_id }
      fields.variant_title = variant.title
    }
    // Price follows the variant and plan (the catalog's discounted plan price), never the browser.
    if (fields.external_variant_id || fields.order_interval_frequency) {
      const price = planPrice(variant.prices[0], plan)
      if (price) fields.price = price
    }
    return stripUndefined(fields)
  }

  private async product(subscription: Subscription, otherProductId?: string): Promise<CatalogProduct | null> {
    const catalog = this.catalog()
    const productId = otherProductId ?? subscription.external_product_id
    if (!catalog || !productId) return null
    return catalog.getProduct(productId)
  }

  /** Options the detail view shows: frequencies the product's plans offer and the variants it may swap to. */
  async options(subscription: Subscription): Promise<{
    frequency_options: { unit: 'day' | 'week' | 'month'; every: number; charge_every: number }[]
    variant_options: { external_variant_id: string; title: string }[]
  }> {
    const product = await this.product(subscription).catch(() => null)
    if (!product) return { frequency_options: [], variant_options: [] }
    return {
      frequency_options: subscription.is_prepaid ? [] : frequencyOptions(product),
      variant_options:
        subscription.is_swappable === false
          ? []
          : product.variants.map((variant) => ({
              external_variant_id: variant.external_variant_id,
              title: variant.title,
            })),
    }
  }

  private async activeSubscription(context: ActionContext, id: string, verb: string): Promise<Subscription> {
    const subscription = await this.records.ownSubscription(context.shopper.customerId, id)
    if (subscription.status !== 'active') throw unprocessable(`Only an active subscription can ${verb}.`)
    return subscription
  }

  /** Successful deliveries of a subscription, counted from the shopper's order history. */
  private async deliveredCount(context: ActionContext, subscriptionId: string): Promise<number> {
    const orders = (await this.records.orders(context.shopper.customerId)).rows
    return orders.filter(
      (order) =>
        order.status !== 'cancelled' &&
        order.status !== 'error' &&
        order.line_items.some((item) => item.purchase_item_id === subscriptionId),
    ).length
  }

  /** One of the shopper's writes (counted before the ownership check, so probing foreign ids costs budget too). */
  private async countWrite(context: ActionContext): Promise<void> {
    await this.writeLimit?.take(context.shopper.customerId)
  }

  private async reload(context: ActionContext, subscriptionId: string): Promise<Subscription> {
    return this.upstream().subscriptions.get(subscriptionId, this.readOptions(context))
  }

  /**
   * Run an action's upstream writes, then drop the shopper's cached records on every replica — also when the writes
   * failed: one may have been applied before a later one failed, or its outcome may be unknown (an answer lost after
   * Recharge processed it). A needless invalidation costs one re-read; a missed one shows the shopper stale state.
   *
   * When the outcome is unknown, `confirm` reads the record back: if it shows the change, the action is answered as
   * done with what was read, instead of leaving the shopper to find out. If it does not (or the read fails), the
   * outcome stays unknown: Recharge may still apply a write it received (src/shopper/write-confirmation.ts).
   */
  private async writing<T>(
    context: ActionContext,
    tags: readonly string[],
    writes: () => Promise<T>,
    confirm?: () => Promise<T | undefined>,
  ): Promise<T> {
    await context.beforeWrite?.()
    try {
      return await writes()
    } catch (error) {
      if (confirm === undefined || !isOutcomeUnknown(error)) throw error
      const confirmed = await confirm().catch(() => undefined)
      if (confirmed === undefined) throw error
      return confirmed
    } finally {
      await this.records.changed(context.shopper.customerId, tags)
    }
  }

  /**
   * Skip or unskip the subscription's items on `charge`, then answer with the subscription as it is now. An answer
   * lost on the way is confirmed from the subscription's next charge date against the charge's (`shows`).
   */
  private async changeDelivery(
    context: ActionContext,
    subscriptionId: string,
    charge: Pick<Charge, 'id' | 'address_id' | 'scheduled_at'>,
    change: 'skip' | 'unskip',
    shows: (current: Subscription, chargeDate: string | null) => boolean,
  ): Promise<Subscription> {
    const confirmed = await this.writing<Subscription | null>(
      context,
      [`subscription:${subscriptionId}`, `charge:${charge.id}`],
      async () => {
        const options = this.writeOptions(context, charge.address_id)
        await this.upstream().charges[change](charge.id, [subscriptionId], options)
        return null // the write's answer is a charge; the subscription is read below
      },
      () => this.confirmShows(context, subscriptionId, (current) => shows(current, charge.scheduled_at)),
    )
    return confirmed ?? this.reload(context, subscriptionId)
  }

  /** The subscription read back fresh, when it `shows` the change; undefined otherwise (the outcome stays unknown). */
  private async confirmShows(
    context: ActionContext,
    subscriptionId: string,
    shows: (current: Subscription) => boolean,
  ): Promise<Subscription | undefined> {
    // A fresh read, never the cache.
    const current = await this.upstream().subscriptions.get(subscriptionId, this.confirmingReadOptions(context))
    return shows(current) ? current : undefined
  }

  /** Its own deadline: the lost answer may have used up the request's (a timeout is the usual cause). */
  private confirmingReadOptions(context: ActionContext) {
    return { ...this.readOptions(context), deadlineMs: CONFIRMING_READ_DEADLINE_MS }
  }

  private writeOptions(context: ActionContext, addressId: string | null) {
    return {
      requestId: context.requestId,
      ...(addressId ? { addressId } : {}),
      ...(context.signal ? { signal: context.signal } : {}),
    }
  }

  private readOptions(context: ActionContext) {
    return { requestId: context.requestId, ...(context.signal ? { signal: context.signal } : {}) }
  }
}

function subscriptionPlans(product: CatalogProduct): CatalogPlan[] {
  return product.plans
    .filter((plan) => plan.type === 'subscription' && plan.interval_unit && plan.order_interval_frequency)
    .sort((a, b) => a.sort_order - b.sort_order)
}

export function frequencyOptions(
  product: CatalogProduct,
): { unit: 'day' | 'week' | 'month'; every: number; charge_every: number }[] {
  const seen = new Set<string>()
  const options: { unit: 'day' | 'week' | 'month'; every: number; charge_every: number }[] = []
  for (const plan of subscriptionPlans(product)) {
    const unit = plan.interval_unit as 'day' | 'week' | 'month'
    const every = plan.order_interval_frequency as number
    const key = `${unit}:${every}`
    if (seen.has(key)) continue
    seen.add(key)
    options.push({ unit, every, charge_every: plan.charge_interval_frequency ?? every })
  }
  return options
}

function currentPlan(product: CatalogProduct, subscription: Subscription): CatalogPlan | null {
  return (
    subscriptionPlans(product).find(
      (plan) =>
        plan.interval_unit === subscription.order_interval_unit &&
        plan.order_interval_frequency === subscription.order_interval_frequency,
    ) ?? null
  )
}

function planPrice(
  prices: CatalogProduct['variants'][number]['prices'][number] | undefined,
  plan: CatalogPlan | null,
): string | null {
  if (!prices) return null
  if (plan) {
    const planPrice = prices.plans.find((entry) => entry.id === plan.id)
    if (planPrice) return planPrice.discounted_price
  }
  return prices.unit_price
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T
}
