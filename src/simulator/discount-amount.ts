import { applyPercentage, parseMoney } from './money.ts'
import type { AppliedDiscount, StoreDiscount } from './retention-types.ts'
import type { SimState } from './state.ts'
import type { Address, Charge, LineItem } from './types.ts'

/**
 * What a discount takes off a charge, from the Discounts API record it points at. Kept free of scheduling imports:
 * scheduling.ts calls it whenever it recomputes a charge's totals.
 */
export function appliedDiscount(discount: StoreDiscount): AppliedDiscount {
  return { id: discount.id, code: discount.code, value: discount.value, value_type: discount.value_type }
}

/** The discount lines a new charge of this address starts with: the address's discount, if any. */
export function addressDiscounts(state: SimState, address: Address): AppliedDiscount[] {
  const ref = address.discounts[0]
  const discount = ref ? state.storeDiscounts.get(ref.id) : undefined
  return discount ? [appliedDiscount(discount)] : []
}

/** Whether a line item is one the discount's `applies_to` covers. */
export function coversItem(discount: StoreDiscount, item: LineItem): boolean {
  const { purchase_item_type: type, resource, ids } = discount.applies_to
  if (type === 'SUBSCRIPTION' && item.purchase_item_type !== 'subscription') return false
  if (type === 'ONETIME' && item.purchase_item_type !== 'onetime') return false
  if (resource === 'shopify_product') return ids.includes(Number(item.external_product_id.ecommerce))
  return true
}

/** The subtotal (minor units) of the items a discount covers. */
export function coveredSubtotal(state: SimState, discount: StoreDiscount, items: LineItem[]): number {
  let total = 0
  for (const item of items) {
    if (coversItem(discount, item)) total += (parseMoney(item.unit_price, state.decimals) ?? 0) * item.quantity
  }
  return total
}

/**
 * The amount (minor units) the charge's discount takes off its line items: a percentage of the covered items,
 * or a fixed amount capped at their subtotal. A `shipping` discount takes nothing here: simulated charges carry no
 * shipping lines.
 */
export function discountMinorFor(state: SimState, charge: Charge): number {
  const line = charge.discounts[0] as AppliedDiscount | undefined
  if (!line) return 0
  const discount = state.storeDiscounts.get(line.id)
  if (!discount) return 0
  const covered = coveredSubtotal(state, discount, charge.line_items)
  const value = parseMoney(discount.value, discount.value_type === 'fixed_amount' ? state.decimals : 2) ?? 0
  if (discount.value_type === 'percentage') return covered - applyPercentage(covered, value / 100)
  if (discount.value_type === 'fixed_amount') return Math.min(value, covered)
  return 0
}
