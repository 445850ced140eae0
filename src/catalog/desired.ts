import type { PlanWriteBody } from '../recharge/schemas/plans.ts'
import type { ProductWriteBody } from '../recharge/schemas/products.ts'
import type { FeedOffer, FeedProduct } from './feed.ts'

/**
 * What Recharge should hold for one feed product: the product body and its plans, each plan with a deterministic
 * key (type, unit, delivery and charge frequency). Keys are how existing plans are matched, so a re-run after a crash
 * finds what the previous run created instead of creating it again.
 */
export interface DesiredPlan {
  key: string
  body: PlanWriteBody
}

export interface DesiredProduct {
  external_product_id: string
  body: ProductWriteBody
  plans: DesiredPlan[]
}

const unitNames = { day: ['day', 'days'], week: ['week', 'weeks'], month: ['month', 'months'] } as const

function every(n: number, unit: keyof typeof unitNames): string {
  return n === 1 ? unitNames[unit][0] : `${n} ${unitNames[unit][1]}`
}

/** `subscription:week:2:2` — the identity of a plan inside its product. */
export function planKey(plan: {
  type: string
  interval_unit: string | null
  order_interval_frequency: number | null
  charge_interval_frequency: number | null
}): string {
  if (plan.type === 'onetime') return 'onetime'
  return `${plan.type}:${plan.interval_unit}:${plan.order_interval_frequency}:${plan.charge_interval_frequency}`
}

function offerPlans(productId: string, offer: FeedOffer, firstSortOrder: number): DesiredPlan[] {
  const discount = {
    discount_type: offer.discount?.type ?? null,
    discount_amount: offer.discount ? offer.discount.amount : null,
  }
  const external_product_id = { ecommerce: productId }
  if (offer.type === 'onetime') {
    const body: PlanWriteBody = {
      title: 'One-time purchase',
      type: 'onetime',
      external_product_id,
      sort_order: firstSortOrder,
      ...discount,
      subscription_preferences: null,
    }
    return [{ key: 'onetime', body }]
  }
  const deliveries = offer.type === 'prepaid' ? offer.deliveries_per_charge : 1
  return offer.intervals.map((n, i) => {
    const preferences = {
      interval_unit: offer.interval_unit,
      order_interval_frequency: n,
      charge_interval_frequency: n * deliveries,
    }
    const title =
      offer.type === 'prepaid'
        ? `Delivery every ${every(n, offer.interval_unit)}, billed every ${every(n * deliveries, offer.interval_unit)}`
        : `Delivery every ${every(n, offer.interval_unit)}`
    const body: PlanWriteBody = {
      title,
      type: offer.type,
      external_product_id,
      sort_order: firstSortOrder + i,
      ...discount,
      subscription_preferences: preferences,
    }
    return { key: planKey({ type: offer.type, ...preferences }), body }
  })
}

export function desiredProduct(product: FeedProduct): DesiredProduct {
  const body: ProductWriteBody = {
    external_product_id: product.external_product_id,
    title: product.title,
    description: product.description ?? null,
    vendor: product.vendor ?? null,
    images: product.image ? [{ original: product.image, sort_order: 1 }] : [],
    options: product.options.map((name, position) => ({
      name,
      position: position + 1,
      values: [...new Set(product.variants.map((variant) => variant.options[position] ?? ''))]
        .filter(Boolean)
        .map((label, index) => ({ label, position: index + 1 })),
    })),
    variants: product.variants.map((variant) => ({
      external_variant_id: variant.external_variant_id,
      title: variant.title,
      sku: variant.sku ?? null,
      option_values: variant.options.map((label) => ({ label })),
      prices: { unit_price: variant.price, compare_at_price: variant.compare_at_price ?? null },
    })),
  }
  const plans: DesiredPlan[] = []
  for (const offer of product.offers) plans.push(...offerPlans(product.external_product_id, offer, plans.length))
  return { external_product_id: product.external_product_id, body, plans }
}
