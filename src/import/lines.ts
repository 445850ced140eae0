import type { CatalogProduct, CatalogService } from '../catalog/types.ts'
import type { ImportLine } from './record.ts'

/**
 * A record's lines checked against the catalog: each names a product and variant Recharge sells and one of the
 * product's subscription plans, and is priced from that plan (the catalog's discounted price), unless the record
 * carries a price and the store's policy lets imports set prices (`imports.allow_price_override`).
 */
export interface ResolvedLine {
  index: number
  externalProductId: string
  externalVariantId: string
  quantity: number
  price: string
  unit: 'day' | 'week' | 'month'
  orderEvery: number
  chargeEvery: number
}

export class RecordRejected extends Error {
  readonly code: string

  constructor(code: string, message: string) {
    super(message)
    this.name = 'RecordRejected'
    this.code = code
  }
}

export async function resolveLines(
  lines: readonly ImportLine[],
  catalog: Pick<CatalogService, 'getProduct'>,
  allowPriceOverride: boolean,
): Promise<ResolvedLine[]> {
  const products = new Map<string, CatalogProduct | null>()
  const resolved: ResolvedLine[] = []
  for (const [index, line] of lines.entries()) {
    const where = `lines.${index}`
    if (!products.has(line.external_product_id))
      products.set(line.external_product_id, await catalog.getProduct(line.external_product_id))
    const product = products.get(line.external_product_id)
    if (!product) throw new RecordRejected('UNKNOWN_PRODUCT', `${where}: no product ${line.external_product_id}`)
    const variant = product.variants.find((candidate) => candidate.external_variant_id === line.external_variant_id)
    if (!variant) throw new RecordRejected('UNKNOWN_VARIANT', `${where}: no variant ${line.external_variant_id}`)
    const plan = product.plans.find(
      (candidate) =>
        candidate.type === 'subscription' &&
        (line.plan_id !== undefined
          ? candidate.id === line.plan_id
          : candidate.interval_unit === line.frequency?.unit &&
            candidate.order_interval_frequency === line.frequency?.every),
    )
    if (!plan?.interval_unit || !plan.order_interval_frequency)
      throw new RecordRejected('UNKNOWN_PLAN', `${where}: the product has no such subscription plan`)
    if (line.price !== undefined && !allowPriceOverride)
      throw new RecordRejected(
        'PRICE_OVERRIDE_REFUSED',
        `${where}: the record sets a price; the store's policy does not allow it (imports.allow_price_override)`,
      )
    const catalogPrice = variant.prices[0]?.plans.find((price) => price.id === plan.id)?.discounted_price
    const price = line.price ?? catalogPrice
    if (price === undefined) throw new RecordRejected('UNKNOWN_PLAN', `${where}: the plan has no price`)
    resolved.push({
      index,
      externalProductId: product.external_product_id,
      externalVariantId: variant.external_variant_id,
      quantity: line.quantity,
      price,
      unit: plan.interval_unit,
      orderEvery: plan.order_interval_frequency,
      chargeEvery: plan.charge_interval_frequency ?? plan.order_interval_frequency,
    })
  }
  return resolved
}
