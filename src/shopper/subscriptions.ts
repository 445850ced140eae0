import type { SubscriptionUpdate } from '../recharge/resources/subscriptions.ts'
import type { Charge } from '../recharge/schemas/charges.ts'
import type { Subscription } from '../recharge/schemas/subscriptions.ts'
import type { ActionContext, WritePipeline } from './pipeline.ts'
import type { ShopperAction } from './policy.ts'
import {
  chargeFor,
  checkCancelReason,
  checkNextChargeDate,
  checkQuantity,
  notAllowed,
  unprocessable,
} from './policy-checks.ts'
import type { CatalogChange, SubscriptionOptions, SwapRules } from './swap.ts'
import { showsSkipped, showsSubscriptionUpdate, showsUnskipped } from './write-confirmation.ts'

/** The cancellation flow around a cancel (src/shopper/retention-offers.ts): more reasons, and declined offers. */
export interface CancelFlow {
  extraReasons(): Promise<readonly string[]>
  cancelled(subscriptionId: string, reason: string): Promise<void>
}

export interface SubscriptionPatch extends CatalogChange {
  next_charge_date?: string | undefined
  quantity?: number | undefined
}

/**
 * The self-serve actions on a subscription: skip, unskip, cancel, reactivate, and update (reschedule, quantity,
 * frequency, variant or product swap). Each runs the shared write pipeline (src/shopper/pipeline.ts); frequency and
 * swap changes are decided by the catalog swap rules (src/shopper/swap.ts).
 */
export class SubscriptionActions {
  private readonly pipeline: WritePipeline
  private readonly swap: SwapRules
  /** Set once the retention offers exist (they use these actions). */
  cancelFlow: CancelFlow | null = null

  constructor(options: { pipeline: WritePipeline; swap: SwapRules }) {
    this.pipeline = options.pipeline
    this.swap = options.swap
  }

  async skip(context: ActionContext, subscriptionId: string): Promise<Subscription> {
    await this.pipeline.admit(context, ['skip'])
    const subscription = await this.activeSubscription(context, subscriptionId, 'skip')
    if (subscription.is_skippable === false) throw notAllowed('skip', 'This subscription cannot be skipped.')
    const charges = (await this.pipeline.records.upcomingCharges(context.shopper.customerId)).rows
    const charge = chargeFor(subscription.id, charges, 'queued')
    if (!charge) throw unprocessable('This subscription has no upcoming delivery to skip.')
    return this.changeDelivery(context, subscription.id, charge, 'skip', showsSkipped)
  }

  async unskip(context: ActionContext, subscriptionId: string): Promise<Subscription> {
    await this.pipeline.admit(context, ['unskip'])
    const subscription = await this.activeSubscription(context, subscriptionId, 'unskip')
    const charges = (await this.pipeline.records.upcomingCharges(context.shopper.customerId)).rows
    const charge = chargeFor(subscription.id, charges, 'skipped')
    if (!charge) throw unprocessable('This subscription has no skipped delivery to restore.')
    return this.changeDelivery(context, subscription.id, charge, 'unskip', showsUnskipped)
  }

  async cancel(
    context: ActionContext,
    subscriptionId: string,
    body: { reason: string; comment?: string | undefined },
  ): Promise<Subscription> {
    const { pipeline } = this
    await pipeline.admit(context, ['cancel'])
    const subscription = await pipeline.records.ownSubscription(context.shopper.customerId, subscriptionId)
    if (subscription.status !== 'active') throw unprocessable('This subscription is not active.')
    const comment = body.comment?.trim() || undefined
    const extraReasons = pipeline.policy.cancel.reasons.includes(body.reason)
      ? []
      : ((await this.cancelFlow?.extraReasons()) ?? [])
    checkCancelReason(pipeline.policy, body.reason, comment, extraReasons)
    const minimum = pipeline.policy.cancel.minimum_charges_before_cancel
    if (minimum > 0) {
      const delivered = await this.deliveredCount(context, subscription.id)
      if (delivered < minimum) {
        throw notAllowed(
          'cancel',
          `This subscription can be cancelled after ${minimum} deliveries; it has had ${delivered} so far.`,
        )
      }
    }
    const cancelled = await pipeline.write(
      context,
      [`subscription:${subscription.id}`],
      () =>
        pipeline
          .upstream()
          .subscriptions.cancel(
            subscription.id,
            { cancellation_reason: body.reason, ...(comment ? { cancellation_reason_comments: comment } : {}) },
            pipeline.writeOptions(context, subscription.address_id),
          ),
      () => this.confirmShows(context, subscription.id, (current) => current.status === 'cancelled'),
    )
    // Bookkeeping only (declined offers): the cancel is done whatever happens to it.
    await this.cancelFlow?.cancelled(subscription.id, body.reason).catch(() => {})
    return cancelled
  }

  async activate(context: ActionContext, subscriptionId: string): Promise<Subscription> {
    const { pipeline } = this
    await pipeline.admit(context, ['activate'])
    const subscription = await pipeline.records.ownSubscription(context.shopper.customerId, subscriptionId)
    if (subscription.status !== 'cancelled') throw unprocessable('Only a cancelled subscription can be reactivated.')
    return pipeline.write(
      context,
      [`subscription:${subscription.id}`],
      () =>
        pipeline
          .upstream()
          .subscriptions.activate(subscription.id, pipeline.writeOptions(context, subscription.address_id)),
      () => this.confirmShows(context, subscription.id, (current) => current.status === 'active'),
    )
  }

  async update(context: ActionContext, subscriptionId: string, patch: SubscriptionPatch): Promise<Subscription> {
    const { pipeline } = this
    // Every requested change must be allowed before anything is looked up or sent.
    const requested: ShopperAction[] = []
    if (patch.next_charge_date !== undefined) requested.push('reschedule')
    if (patch.frequency !== undefined) requested.push('change_frequency')
    if (patch.quantity !== undefined) requested.push('change_quantity')
    if (patch.external_variant_id !== undefined || patch.external_product_id !== undefined) {
      requested.push('swap_variant')
    }
    await pipeline.admit(context, requested)

    const subscription = await this.activeSubscription(context, subscriptionId, 'change')
    if (patch.next_charge_date !== undefined) checkNextChargeDate(pipeline.policy, patch.next_charge_date)
    if (patch.quantity !== undefined) checkQuantity(pipeline.policy, patch.quantity)

    const fields: SubscriptionUpdate = {}
    if (patch.quantity !== undefined && patch.quantity !== subscription.quantity) fields.quantity = patch.quantity
    if (
      patch.frequency !== undefined ||
      patch.external_variant_id !== undefined ||
      patch.external_product_id !== undefined
    ) {
      Object.assign(fields, await this.swap.changes(subscription, patch))
    }

    const options = pipeline.writeOptions(context, subscription.address_id)
    return pipeline.write(
      context,
      [`subscription:${subscription.id}`],
      async () => {
        let updated = subscription
        if (Object.keys(fields).length > 0) {
          updated = await pipeline.upstream().subscriptions.update(subscription.id, fields, options)
        }
        if (patch.next_charge_date !== undefined && patch.next_charge_date !== updated.next_charge_scheduled_at) {
          updated = await pipeline
            .upstream()
            .subscriptions.setNextChargeDate(subscription.id, patch.next_charge_date, options)
        }
        return updated
      },
      () =>
        this.confirmShows(context, subscription.id, (current) =>
          showsSubscriptionUpdate(current, fields, patch.next_charge_date),
        ),
    )
  }

  /** Options the detail view shows: frequencies the product's plans offer and the variants it may swap to. */
  options(subscription: Subscription): Promise<SubscriptionOptions> {
    return this.swap.options(subscription)
  }

  private async activeSubscription(context: ActionContext, id: string, verb: string): Promise<Subscription> {
    const subscription = await this.pipeline.records.ownSubscription(context.shopper.customerId, id)
    if (subscription.status !== 'active') throw unprocessable(`Only an active subscription can ${verb}.`)
    return subscription
  }

  /** Successful deliveries of a subscription, counted from the shopper's order history. */
  private async deliveredCount(context: ActionContext, subscriptionId: string): Promise<number> {
    const orders = (await this.pipeline.records.orders(context.shopper.customerId)).rows
    return orders.filter(
      (order) =>
        order.status !== 'cancelled' &&
        order.status !== 'error' &&
        order.line_items.some((item) => item.purchase_item_id === subscriptionId),
    ).length
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
    const { pipeline } = this
    const confirmed = await pipeline.write<Subscription | null>(
      context,
      [`subscription:${subscriptionId}`, `charge:${charge.id}`],
      async () => {
        const options = pipeline.writeOptions(context, charge.address_id)
        await pipeline.upstream().charges[change](charge.id, [subscriptionId], options)
        return null // the write's answer is a charge; the subscription is read below
      },
      () => this.confirmShows(context, subscriptionId, (current) => shows(current, charge.scheduled_at)),
    )
    return confirmed ?? pipeline.upstream().subscriptions.get(subscriptionId, pipeline.readOptions(context))
  }

  /** The subscription read back fresh, when it `shows` the change; undefined otherwise (the outcome stays unknown). */
  private async confirmShows(
    context: ActionContext,
    subscriptionId: string,
    shows: (current: Subscription) => boolean,
  ): Promise<Subscription | undefined> {
    const { pipeline } = this
    // A fresh read, never the cache.
    const current = await pipeline.upstream().subscriptions.get(subscriptionId, pipeline.confirmingReadOptions(context))
    return shows(current) ? current : undefined
  }
}
