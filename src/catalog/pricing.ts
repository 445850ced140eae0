import type Big from 'big.js'
import { decimal, formatAmount, minorUnits, ROUNDING_MODE } from '../infra/money.ts'

export interface PlanDiscount {
  discount_type: 'percentage' | 'fixed_amount' | null
  discount_amount: string | null
}

export interface PlanPrice {
  /** The variant's subscribe-and-save price. */
  discounted_price: string
  /** What the shopper saves per unit: unit_price − discounted_price. */
  discount_value: string
}

/**
 * The subscribe-and-save price of a unit under a plan's discount, exactly, in the currency's minor units.
 *
 * The discount value is computed first and rounded half-up to minor units, then subtracted, so that
 * `discounted_price + discount_value === unit_price` always holds (as in Recharge's CDN JSON: 39.95 at 20 % →
 * 31.96 + 7.99). Percentages above 100 and fixed amounts above the price are capped at the price (never negative);
 * a missing, zero or negative discount means no discount.
 */
export function planPrice(unitPrice: string, discount: PlanDiscount, currency: string): PlanPrice {
  const units = minorUnits(currency)
  const unit = decimal(unitPrice).round(units, ROUNDING_MODE)
  const value = discountValue(unit, discount, units)
  return { discounted_price: formatAmount(unit.minus(value), currency), discount_value: formatAmount(value, currency) }
}

function discountValue(unit: Big, discount: PlanDiscount, units: number): Big {
  if (!discount.discount_type || discount.discount_amount === null) return decimal(0)
  const amount = decimal(discount.discount_amount)
  if (amount.lte(0)) return decimal(0)
  const raw = discount.discount_type === 'percentage' ? unit.times(amount).div(100) : amount
  const rounded = raw.round(units, ROUNDING_MODE)
  return rounded.gt(unit) ? unit : rounded
}
