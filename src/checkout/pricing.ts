import type { CatalogPlan, CatalogVariant, CatalogVariantPrice } from '../catalog/types.ts'

/**
 * Prices of a cart line, from the catalog only. The catalog lists, per variant and currency, the unit price and the
 * exact discounted price of every plan that applies to that variant (src/catalog/pricing.ts computes them). Nothing
 * is recomputed here: a plan the variant's price entry does not list is a plan this variant is not sold under.
 */

/** The variant's price entry in `currency`, or its only entry when the store has one currency. */
export function priceEntry(variant: CatalogVariant, currency: string | null): CatalogVariantPrice | null {
  if (currency) {
    const match = variant.prices.find((price) => price.currency.toUpperCase() === currency.toUpperCase())
    if (match) return match
  }
  return variant.prices.length === 1 ? (variant.prices[0] ?? null) : null
}

/** The price of one unit under `plan`, or null when the plan does not apply to this variant. */
export function planUnitPrice(price: CatalogVariantPrice, plan: CatalogPlan): string | null {
  return price.plans.find((entry) => entry.id === plan.id)?.discounted_price ?? null
}
