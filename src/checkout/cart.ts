import type { CatalogPlan, CatalogProduct, CatalogVariant } from '../catalog/types.ts'
import { AppError, type FieldError } from '../errors.ts'
import type { UpstreamCheckoutLineInput } from '../recharge/schemas/checkouts.ts'
import { planUnitPrice, priceEntry } from './pricing.ts'
import type { CartLine } from './schemas.ts'

/**
 * Cart resolution: the browser names products, variants, plans and quantities; everything that decides what the
 * shopper pays — unit price, subscription discount, interval — comes from the catalog. A line that names something
 * the catalog does not offer fails the whole cart with a 422 that points at the line, before any upstream call.
 */

export interface ResolvedLine {
  index: number
  externalProductId: string
  externalVariantId: string
  quantity: number
  purchaseType: 'subscription' | 'onetime'
  planId: number | null
  currency: string
  unitPrice: string
  productTitle: string
  variantTitle: string
  interval: { unit: 'day' | 'week' | 'month'; chargeEvery: number; deliverEvery: number } | null
}

export interface ResolvedCart {
  currency: string
  lines: ResolvedLine[]
}

/** Looks a product up in the catalog; `null` = the catalog has no such product. */
export type ProductLookup = (externalProductId: string) => Promise<CatalogProduct | null>

const subscriptionTypes = new Set<CatalogPlan['type']>(['subscription', 'prepaid'])

function isSubscriptionPlan(plan: CatalogPlan): boolean {
  return subscriptionTypes.has(plan.type)
}

/**
 * One-time purchase is allowed when the product offers a one-time plan, or has no subscription plan at all (a plain
 * product). A product with only subscription plans is "subscription only".
 */
function onetimePlanOf(product: CatalogProduct): CatalogPlan | 'plain' | null {
  const onetime = product.plans.find((plan) => plan.type === 'onetime')
  if (onetime) return onetime
  return product.plans.some(isSubscriptionPlan) ? null : 'plain'
}

type LineOutcome = { ok: true; line: ResolvedLine } | { ok: false; error: FieldError }

function resolveLine(
  line: CartLine,
  index: number,
  product: CatalogProduct | null,
  storeCurrency: string | null,
): LineOutcome {
  const at = (field: string) => `body.lines.${index}.${field}`
  const fail = (field: string, message: string): LineOutcome => ({ ok: false, error: { field: at(field), message } })

  if (!product) return fail('external_product_id', 'no such product in the catalog')
  const variant: CatalogVariant | undefined = product.variants.find(
    (candidate) => candidate.external_variant_id === line.external_variant_id,
  )
  if (!variant) return fail('external_variant_id', 'no such variant of this product')
  const price = priceEntry(variant, storeCurrency)
  if (!price) return fail('external_variant_id', 'this variant has no price in the store currency')

  const base = {
    index,
    externalProductId: product.external_product_id,
    externalVariantId: variant.external_variant_id,
    quantity: line.quantity,
    currency: price.currency.toUpperCase(),
    productTitle: product.title,
    variantTitle: variant.title,
  }

  if (line.plan_id === undefined) {
    const onetime = onetimePlanOf(product)
    if (!onetime) return fail('plan_id', 'this product is sold by subscription only: choose one of its plans')
    // A one-time plan may carry its own discount for this variant; otherwise the list price applies.
    const onetimePrice = onetime === 'plain' ? null : planUnitPrice(price, onetime)
    return {
      ok: true,
      line: {
        ...base,
        purchaseType: 'onetime',
        planId: onetime === 'plain' ? null : onetime.id,
        unitPrice: onetimePrice ?? price.unit_price,
        interval: null,
      },
    }
  }

  const plan = product.plans.find((candidate) => candidate.id === line.plan_id)
  if (!plan) return fail('plan_id', 'this plan is not offered for this product')
  if (!isSubscriptionPlan(plan)) return fail('plan_id', 'this plan is a one-time plan: leave plan_id out instead')
  const chargeEvery = plan.charge_interval_frequency
  const deliverEvery = plan.order_interval_frequency ?? chargeEvery
  if (!plan.interval_unit || !chargeEvery || chargeEvery < 1 || !deliverEvery || deliverEvery < 1) {
    return fail('plan_id', 'this plan has no valid interval in the catalog')
  }
  const unitPrice = planUnitPrice(price, plan)
  if (unitPrice === null) return fail('plan_id', 'this plan is not offered for this variant')
  return {
    ok: true,
    line: {
      ...base,
      purchaseType: 'subscription',
      planId: plan.id,
      unitPrice,
      interval: { unit: plan.interval_unit, chargeEvery, deliverEvery },
    },
  }
}

/**
 * Resolve every line against the catalog (each distinct product fetched once, in parallel). All problems are
 * reported together, so a storefront can mark every bad line at once.
 *
 * `known` (the catalog's product index) is asked first: a cart naming any product the store does not have fails
 * before a single product is fetched, so a cart of made-up ids costs no upstream call.
 */
export async function resolveCart(
  lines: readonly CartLine[],
  lookup: ProductLookup,
  storeCurrency: () => Promise<string | null>,
  known?: (externalProductId: string) => Promise<boolean>,
): Promise<ResolvedCart> {
  const ids = [...new Set(lines.map((line) => line.external_product_id))]
  if (known) {
    const unknown = new Set(
      (await Promise.all(ids.map(async (id) => ((await known(id)) ? null : id)))).filter((id) => id !== null),
    )
    if (unknown.size > 0) {
      const errors: FieldError[] = []
      lines.forEach((line, index) => {
        if (unknown.has(line.external_product_id)) {
          errors.push({ field: `body.lines.${index}.external_product_id`, message: 'no such product in the catalog' })
        }
      })
      throw cartError(errors)
    }
  }
  const products = new Map(await Promise.all(ids.map(async (id) => [id, await lookup(id)] as const)))
  const needsCurrency = lines.some((line) => {
    const variant = products
      .get(line.external_product_id)
      ?.variants.find((candidate) => candidate.external_variant_id === line.external_variant_id)
    return (variant?.prices.length ?? 0) > 1
  })
  const currency = needsCurrency ? await storeCurrency() : null

  const resolved: ResolvedLine[] = []
  const errors: FieldError[] = []
  lines.forEach((line, index) => {
    const outcome = resolveLine(line, index, products.get(line.external_product_id) ?? null, currency)
    if (outcome.ok) resolved.push(outcome.line)
    else errors.push(outcome.error)
  })

  const currencies = new Set(resolved.map((line) => line.currency))
  if (errors.length === 0 && currencies.size > 1) {
    errors.push({
      field: 'body.lines',
      message: `the lines are priced in different currencies (${[...currencies].join(', ')})`,
    })
  }
  if (errors.length > 0) throw cartError(errors)
  return { currency: resolved[0]!.currency, lines: resolved }
}

function cartError(errors: FieldError[]): AppError {
  const badLines = [...new Set(errors.map((error) => /^body\.lines\.(\d+)\./.exec(error.field)?.[1]))]
    .filter((index): index is string => index !== undefined)
    .map(Number)
  return new AppError('UNPROCESSABLE', {
    detail: `The cart names something the catalog does not offer: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
    errors,
    extensions: { lines: badLines },
  })
}

/** The Recharge line item for a resolved line: catalog price and the plan's intervals, nothing from the browser. */
export function toUpstreamLineItem(line: ResolvedLine): UpstreamCheckoutLineInput {
  return {
    external_product_id: { ecommerce: line.externalProductId },
    external_variant_id: { ecommerce: line.externalVariantId },
    quantity: line.quantity,
    purchase_item_type: line.purchaseType,
    unit_price: line.unitPrice,
    title: line.productTitle,
    variant_title: line.variantTitle,
    ...(line.interval
      ? {
          subscription_preferences: {
            charge_interval_frequency: line.interval.chargeEvery,
            order_interval_frequency: line.interval.deliverEvery,
            interval_unit: line.interval.unit,
          },
        }
      : {}),
  }
}
