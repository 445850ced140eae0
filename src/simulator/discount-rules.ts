import { parseMoney } from '../infra/money.ts'
import { appliedDiscount, coversItem } from './discount-amount.ts'
import { fieldError, unprocessable } from './errors.ts'
import type { AppliedDiscount, StoreDiscount } from './retention-types.ts'
import { applyTotals, chargesNear } from './scheduling.ts'
import type { SimState } from './state.ts'
import type { Address, Charge, LineItem } from './types.ts'

/**
 * Applying Discounts API codes to an address (`PUT /addresses/{id}` `discounts`) or to one queued charge
 * (`POST /charges/{id}/apply_discount`), with the checks Recharge makes before it accepts a code. Each refusal is a
 * 422 in the `{"errors": {"<field>": ["…"]}}` shape, naming the field the request used.
 */
export function findDiscountByCode(state: SimState, code: string): StoreDiscount | undefined {
  const wanted = code.trim().toUpperCase()
  for (const discount of state.storeDiscounts.values()) if (discount.code.toUpperCase() === wanted) return discount
  return undefined
}

/** The discount a request names by `discount_code` or `discount_id`, or the 422 Recharge gives for an unknown one. */
export function readDiscountRef(
  state: SimState,
  body: Record<string, unknown>,
): { discount: StoreDiscount; field: string } {
  if (typeof body.discount_code === 'string' && body.discount_code.trim() !== '') {
    const discount = findDiscountByCode(state, body.discount_code)
    if (!discount) throw fieldError('discount_code', `Discount code ${body.discount_code.trim()} is invalid.`)
    return { discount, field: 'discount_code' }
  }
  if (body.discount_id !== undefined && body.discount_id !== null) {
    const discount = state.storeDiscounts.get(Number(body.discount_id))
    if (!discount) throw fieldError('discount_id', 'Discount not found.')
    return { discount, field: 'discount_id' }
  }
  throw unprocessable({ _schema: ['discount_code or discount_id is required.'] })
}

interface Target {
  customerId: number
  items: LineItem[]
}

/** Throws the 422 for the first rule the discount breaks for this customer and these items. */
export function assertApplicable(state: SimState, discount: StoreDiscount, target: Target, field: string): void {
  const refuse = (message: string) => fieldError(field, `Discount code ${discount.code} ${message}`)
  const now = state.now()
  if (discount.status !== 'enabled') throw refuse('is not active.')
  if (discount.starts_at && Date.parse(discount.starts_at) > now) throw refuse('is not active yet.')
  if (discount.ends_at && Date.parse(discount.ends_at) <= now) throw refuse('has expired.')
  if (!discount.channel_settings.api.can_apply) throw refuse('cannot be applied through the API.')
  const customer = state.customers.get(target.customerId)
  if (discount.usage_limits.first_time_customer_restriction && customer?.first_charge_processed_at) {
    throw refuse('is only for first-time customers.')
  }
  if (discount.usage_limits.one_application_per_customer && hasUsed(state, discount, target.customerId)) {
    throw refuse('has already been used by this customer.')
  }
  if (target.items.length > 0 && !target.items.some((item) => coversItem(discount, item))) {
    throw refuse('does not apply to these items.')
  }
  const minimum = discount.prerequisite_subtotal_min
  if (minimum !== null && target.items.length > 0) {
    const subtotal = target.items.reduce(
      (sum, item) => sum + (parseMoney(item.unit_price, state.decimals) ?? 0) * item.quantity,
      0,
    )
    if (subtotal < (parseMoney(minimum, state.decimals) ?? 0)) {
      throw refuse(`requires a subtotal of at least ${minimum}.`)
    }
  }
}

function hasUsed(state: SimState, discount: StoreDiscount, customerId: number): boolean {
  for (const order of state.orders.ofCustomer(customerId)) {
    if ((order.discounts as AppliedDiscount[]).some((line) => line.id === discount.id)) return true
  }
  return false
}

export function queuedChargesOf(state: SimState, addressId: number): Charge[] {
  return [...chargesNear(state, addressId)].filter(
    (charge) => charge.address_id === addressId && charge.status === 'queued',
  )
}

/**
 * Sets (or with null clears) the address's one discount and carries it to the address's queued charges: each charge
 * that had no discount or the address's previous one takes the new one; a charge-level discount stays. Emits
 * charge/updated for every charge whose totals moved.
 */
export function setAddressDiscount(state: SimState, address: Address, discount: StoreDiscount | null): void {
  const previous = address.discounts[0]?.id ?? null
  address.discounts = discount ? [{ id: discount.id }] : []
  for (const charge of queuedChargesOf(state, address.id)) {
    const current = (charge.discounts[0] as AppliedDiscount | undefined)?.id ?? null
    if (current !== null && current !== previous) continue
    if (current === (discount?.id ?? null)) continue
    setChargeDiscount(state, charge, discount)
  }
}

/** Replaces a charge's discount lines and recomputes its totals exactly; emits charge/updated. */
export function setChargeDiscount(state: SimState, charge: Charge, discount: StoreDiscount | null): void {
  charge.discounts = discount ? [appliedDiscount(discount)] : []
  applyTotals(state, charge)
  charge.updated_at = state.timestamp()
  state.emit('charge/updated', { charge })
}

/**
 * `PUT /addresses/{id}` `discounts`: `[]` removes the address's discount, `[{"code": "…"}]` (or `[{"id": …}]`) sets
 * it. An address holds one discount; each refusal is a 422 on `discounts`.
 */
export function readAddressDiscount(state: SimState, address: Address, value: unknown): StoreDiscount | null {
  if (!Array.isArray(value)) throw fieldError('discounts', 'Not a valid list.')
  if (value.length === 0) return null
  if (value.length > 1) throw fieldError('discounts', 'Only one discount can be applied to an address.')
  const entry = (value[0] ?? {}) as Record<string, unknown>
  let discount: StoreDiscount | undefined
  if (typeof entry.code === 'string' && entry.code.trim() !== '') {
    discount = findDiscountByCode(state, entry.code)
    if (!discount) throw fieldError('discounts', `Discount code ${entry.code.trim()} is invalid.`)
  } else if (entry.id !== undefined && entry.id !== null) {
    discount = state.storeDiscounts.get(Number(entry.id))
    if (!discount) throw fieldError('discounts', 'Discount not found.')
  } else {
    throw fieldError('discounts', 'Each discount needs a code or an id.')
  }
  if (address.discounts[0]?.id === discount.id) return discount
  const items = queuedChargesOf(state, address.id).flatMap((charge) => charge.line_items)
  assertApplicable(state, discount, { customerId: address.customer_id, items }, 'discounts')
  return discount
}
