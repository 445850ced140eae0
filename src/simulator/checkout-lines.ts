import { applyPercentage, parseMoney } from '../infra/money.ts'
import { findVariant, imagesOf, readExternalId, variantPriceMinor } from './catalog.ts'
import { fieldError, unprocessable } from './errors.ts'
import type { SimState } from './state.ts'
import { readFrequency, readQuantity, readUnit } from './subscription-rules.ts'
import type { CheckoutLineItem } from './types.ts'

type Body = Record<string, unknown>

/**
 * A checkout's line items read from the request: each must name a catalog variant; prices are the catalog's unless a
 * `unit_price` is sent, with the plan discount on subscription lines.
 */
export function readLines(state: SimState, value: unknown): CheckoutLineItem[] {
  if (!Array.isArray(value) || value.length === 0) throw fieldError('line_items', 'Missing data for required field.')
  const errors: Record<string, Record<string, string[]>> = {}
  const lines: CheckoutLineItem[] = []
  value.forEach((raw, index) => {
    const line = (raw && typeof raw === 'object' ? raw : {}) as Body
    const problems: Record<string, string[]> = {}
    const found = findVariant(state, readExternalId(line.external_product_id), readExternalId(line.external_variant_id))
    if (!found)
      problems.external_variant_id = ['No product variant with this external_product_id / external_variant_id.']
    let quantity = 1
    try {
      quantity = readQuantity(line.quantity ?? 1)
    } catch {
      problems.quantity = ['Must be greater than or equal to 1.']
    }
    const preferences = (
      line.subscription_preferences && typeof line.subscription_preferences === 'object'
        ? line.subscription_preferences
        : {}
    ) as Body
    const chargeEvery = line.charge_interval_frequency ?? preferences.charge_interval_frequency
    const orderEvery = line.order_interval_frequency ?? preferences.order_interval_frequency ?? chargeEvery
    const unitValue =
      line.order_interval_unit ?? line.interval_unit ?? preferences.interval_unit ?? preferences.order_interval_unit
    const type =
      line.purchase_item_type === 'onetime'
        ? 'onetime'
        : chargeEvery != null || line.purchase_item_type === 'subscription'
          ? 'subscription'
          : 'onetime'
    let interval: { charge: number; order: number; unit: ReturnType<typeof readUnit> } | null = null
    if (type === 'subscription') {
      try {
        interval = {
          charge: readFrequency(chargeEvery, 'charge_interval_frequency'),
          order: readFrequency(orderEvery, 'order_interval_frequency'),
          unit: readUnit(unitValue, 'order_interval_unit'),
        }
      } catch {
        problems.charge_interval_frequency = [
          'Subscription lines need charge_interval_frequency, order_interval_frequency and order_interval_unit.',
        ]
      }
    }
    let price: number | null = null
    const sent = readSentPrice(line, state.decimals)
    if (sent && 'error' in sent) problems[sent.field] = [sent.error]
    if (found && sent && 'minor' in sent) {
      price = sent.minor
    } else if (found && !sent) {
      const catalog = variantPriceMinor(state, found.variant)
      price = interval
        ? applyPercentage(catalog, planDiscount(state, found.product.external_product_id, interval))
        : catalog
    }
    if (Object.keys(problems).length > 0 || !found || price === null) {
      errors[String(index)] = problems
      return
    }
    const total = price * quantity
    lines.push({
      charge_interval_frequency: interval?.charge ?? null,
      external_product_id: { ecommerce: found.product.external_product_id },
      external_variant_id: { ecommerce: found.variant.external_variant_id },
      grams: found.variant.weight.value,
      images: imagesOf(found),
      order_interval_frequency: interval?.order ?? null,
      order_interval_unit: interval?.unit ?? null,
      original_price: found.variant.prices.unit_price,
      price: state.money(price),
      product_title: found.product.title,
      properties: Array.isArray(line.properties) ? (line.properties as CheckoutLineItem['properties']) : [],
      purchase_item_type: type,
      quantity,
      requires_shipping: found.variant.requires_shipping,
      sku: found.variant.sku,
      tax_lines: [],
      taxable: found.variant.taxable,
      title: found.product.title,
      total_price: state.money(total),
      unit_price: state.money(price),
      variant_title: found.variant.title,
    })
  })
  if (Object.keys(errors).length > 0) throw unprocessable({ line_items: errors })
  return lines
}

/**
 * The unit price a line item was sent with: `unit_price` (2021-11, as on charge and order line items) or its older
 * name `price`; `unit_price` wins when both are present. A price the client sends is charged as is (no plan discount
 * on top), so it must be a plain decimal ≥ 0 with no more decimals than the currency has: rounding it silently would
 * hide a client that sent the wrong amount. Undefined when the line carries no price (the catalog's applies).
 */
function readSentPrice(
  line: Body,
  decimals: number,
): { field: string; minor: number } | { field: string; error: string } | undefined {
  const field = line.unit_price != null ? 'unit_price' : line.price != null ? 'price' : null
  if (field === null) return undefined
  const value = line[field]
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value
  if (typeof text !== 'string' || !/^-?\d+(\.\d+)?$/.test(text.trim())) return { field, error: 'Not a valid number.' }
  const trimmed = text.trim()
  if (trimmed.startsWith('-')) return { field, error: 'Must be greater than or equal to 0.' }
  const fraction = trimmed.split('.')[1] ?? ''
  if (fraction.replace(/0+$/, '').length > decimals)
    return { field, error: `Must have at most ${decimals} decimal places.` }
  const minor = parseMoney(trimmed, decimals)
  return minor === null ? { field, error: 'Not a valid number.' } : { field, minor }
}

/** The percentage discount of the product's plan with this interval (0 when no plan matches). */
function planDiscount(
  state: SimState,
  productId: string,
  interval: { charge: number; order: number; unit: string },
): number {
  for (const plan of state.plans.values()) {
    const preferences = plan.subscription_preferences
    if (plan.external_product_id.ecommerce !== productId || !preferences) continue
    if (
      preferences.charge_interval_frequency !== interval.charge ||
      preferences.order_interval_frequency !== interval.order ||
      preferences.interval_unit !== interval.unit
    )
      continue
    return plan.discount_type === 'percentage' ? Number(plan.discount_amount ?? 0) : 0
  }
  return 0
}
