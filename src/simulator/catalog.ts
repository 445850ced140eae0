import { parseMoney } from '../infra/money.ts'
import type { SimState } from './state.ts'
import type { ExternalId, Images, Product, ProductVariant } from './types.ts'

/** Product/variant lookups shared by subscriptions, charges and checkouts. */
export function findVariant(
  state: SimState,
  externalProductId: string | null,
  externalVariantId: string | null,
): { product: Product; variant: ProductVariant } | null {
  if (!externalProductId) return null
  const product = state.products.get(externalProductId)
  if (!product) return null
  const variant = externalVariantId
    ? product.variants.find((candidate) => candidate.external_variant_id === externalVariantId)
    : product.variants[0]
  return variant ? { product, variant } : null
}

export function variantPriceMinor(state: SimState, variant: ProductVariant): number {
  return parseMoney(variant.prices.unit_price, state.decimals) ?? 0
}

export const NO_IMAGES: Images = { large: null, medium: null, original: null, small: null }

export function imagesOf(found: { product: Product; variant: ProductVariant } | null): Images {
  if (!found) return { ...NO_IMAGES }
  return { ...found.variant.image }
}

/** `{"ecommerce": "…"}`, or a bare string/number: Recharge accepts both in request bodies. */
export function readExternalId(value: unknown): string | null {
  if (typeof value === 'string' && value !== '') return value
  if (typeof value === 'number') return String(value)
  if (value && typeof value === 'object' && 'ecommerce' in value) {
    const inner = (value as { ecommerce: unknown }).ecommerce
    if (typeof inner === 'string' && inner !== '') return inner
    if (typeof inner === 'number') return String(inner)
  }
  return null
}

export function externalId(value: string | null): ExternalId {
  return { ecommerce: value }
}
