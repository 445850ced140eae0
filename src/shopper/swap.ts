import type { CatalogPlan, CatalogProduct, CatalogService } from '../catalog/types.ts'
import type { SubscriptionUpdate } from '../recharge/resources/subscriptions.ts'
import type { Subscription } from '../recharge/schemas/subscriptions.ts'
import type { Policy } from './policy.ts'
import { notAllowed, unprocessable } from './policy-checks.ts'

/** The part of a subscription change the catalog decides: its schedule, its variant, or another product. */
export interface CatalogChange {
  frequency?: { unit: 'day' | 'week' | 'month'; every: number } | undefined
  external_variant_id?: string | undefined
  /** Another catalog product to swap to (policy swap.scope = catalog), with one of its variants. */
  external_product_id?: string | undefined
}

export interface SubscriptionOptions {
  frequency_options: { unit: 'day' | 'week' | 'month'; every: number; charge_every: number }[]
  variant_options: { external_variant_id: string; title: string }[]
}

/**
 * The catalog swap rules: which frequencies, variants and products a subscription may change to (the store policy's
 * swap scope, the product's subscription plans), and the Recharge fields such a change writes, priced from the
 * catalog, never from the browser.
 */
export class SwapRules {
  private readonly policy: Policy
  private readonly catalog: () => CatalogService | undefined

  constructor(options: { policy: Policy; catalog: () => CatalogService | undefined }) {
    this.policy = options.policy
    this.catalog = options.catalog
  }

  /** Frequency and variant changes, validated against the catalog's product, plans and variants. */
  async changes(subscription: Subscription, patch: CatalogChange): Promise<SubscriptionUpdate> {
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
  async options(subscription: Subscription): Promise<SubscriptionOptions> {
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
