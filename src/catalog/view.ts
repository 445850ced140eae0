import { formatAmount } from '../infra/money.ts'
import type { RechargePlan } from '../recharge/schemas/plans.ts'
import type { RechargeProduct } from '../recharge/schemas/products.ts'
import { planPrice } from './pricing.ts'
import type { CatalogPlan, CatalogProduct, CatalogVariant } from './types.ts'

/**
 * The subset of a Recharge plan the storefront view needs. Kept small because whole-catalog plan indexes are cached.
 */
export interface ViewPlan {
  id: string
  title: string
  type: 'subscription' | 'prepaid' | 'onetime'
  sort_order: number
  discount_type: 'percentage' | 'fixed_amount' | null
  discount_amount: string | null
  interval_unit: 'day' | 'week' | 'month' | null
  order_interval_frequency: number | null
  charge_interval_frequency: number | null
  /** Empty = every variant. */
  variant_ids: string[]
  external_plan_id: string | null
  external_plan_name: string | null
  updated_at: string | null
}

/**
 * Plans a headless storefront may offer: not deleted, and not hidden from the API channel
 * (`channel_settings.api.display === false`). Checkout pricing uses the same view, so a hidden plan cannot be bought.
 */
export function toViewPlan(plan: RechargePlan): ViewPlan | null {
  if (plan.deleted_at) return null
  if (plan.channel_settings?.api?.display === false) return null
  const preferences = plan.subscription_preferences
  return {
    id: plan.id,
    title: plan.title,
    type: plan.type,
    sort_order: plan.sort_order,
    discount_type: plan.discount_type,
    discount_amount: plan.discount_amount,
    interval_unit: preferences?.interval_unit ?? null,
    order_interval_frequency: preferences?.order_interval_frequency ?? null,
    charge_interval_frequency: preferences?.charge_interval_frequency ?? null,
    variant_ids: plan.has_variant_restrictions ? plan.external_variant_ids : [],
    external_plan_id: plan.external_plan_id,
    external_plan_name: plan.external_plan_name,
    updated_at: plan.updated_at,
  }
}

function byDisplayOrder(a: ViewPlan, b: ViewPlan): number {
  return a.sort_order - b.sort_order || compareIds(a.id, b.id)
}

function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0)
}

function toCatalogPlan(plan: ViewPlan): CatalogPlan {
  return {
    id: Number(plan.id),
    title: plan.title,
    type: plan.type,
    sort_order: plan.sort_order,
    discount_amount: plan.discount_amount,
    discount_type: plan.discount_type,
    interval_unit: plan.interval_unit,
    charge_interval_frequency: plan.charge_interval_frequency,
    order_interval_frequency: plan.order_interval_frequency,
    external_plan_id: plan.external_plan_id,
    external_plan_name: plan.external_plan_name,
  }
}

/** The first image by sort order, preferring the original size. */
function primaryImage(product: RechargeProduct): string | null {
  const [first] = [...product.images].sort((a, b) => (a.sort_order ?? 0) - (b.sort_order ?? 0))
  return first ? (first.original ?? first.large ?? first.medium ?? first.small ?? null) : null
}

function latest(values: readonly (string | null | undefined)[]): string {
  let best = ''
  for (const value of values) if (value && value > best) best = value
  return best || '1970-01-01T00:00:00.000Z'
}

/**
 * A Recharge product and its plans, in the shape of Recharge's CDN product JSON (2021-08): plans with frequency, unit
 * and discount; variants with their price in the store currency and, per plan that applies to the variant, the
 * discounted price and discount value computed exactly (src/catalog/pricing.ts). Deterministic: the same input gives
 * byte-identical JSON, so ETags stay stable across replicas.
 */
export function toCatalogProduct(
  product: RechargeProduct,
  plans: readonly ViewPlan[],
  currency: string,
): CatalogProduct {
  const ordered = [...plans].sort(byDisplayOrder)
  const variants: CatalogVariant[] = product.variants.map((variant) => {
    const unitPrice = variant.prices.unit_price
    const applicable = ordered.filter(
      (plan) => plan.variant_ids.length === 0 || plan.variant_ids.includes(variant.external_variant_id),
    )
    return {
      external_variant_id: variant.external_variant_id,
      title: variant.title,
      option_values: variant.option_values,
      prices:
        unitPrice === null
          ? []
          : [
              {
                currency,
                unit_price: formatAmount(unitPrice, currency),
                compare_at_price:
                  variant.prices.compare_at_price === null
                    ? null
                    : formatAmount(variant.prices.compare_at_price, currency),
                plans: applicable.map((plan) => ({ id: Number(plan.id), ...planPrice(unitPrice, plan, currency) })),
              },
            ],
    }
  })
  return {
    external_product_id: product.external_product_id,
    title: product.title,
    description: product.description,
    image: primaryImage(product),
    plans: ordered.map(toCatalogPlan),
    variants,
    updated_at: latest([product.updated_at, ...ordered.map((plan) => plan.updated_at)]),
  }
}
