import Big from 'big.js'

/**
 * Exact decimal money in a store currency. Amounts are decimal strings on the wire ("39.95", "3200"); arithmetic is
 * done with big.js, never with binary floats, and results are rounded once to the currency's minor units.
 *
 * Rounding rule: half-up (a .5 in the first dropped digit rounds away from zero), the commercial rounding shoppers
 * see on Shopify storefronts and in Recharge's widget. Recharge does not document its rule; half-even would differ
 * only on exact halves (10 % of 1.25 = 0.125 → 0.13 half-up, 0.12 half-even). See docs/catalog.md.
 */
export const ROUNDING_MODE = Big.roundHalfUp

const minorUnitCache = new Map<string, number>()

/**
 * Number of decimals of a currency (ISO 4217 minor units, from the runtime's CLDR data): USD 2, JPY 0, KRW 0,
 * KWD 3. An unknown but well-formed code gets 2, a malformed one throws.
 */
export function minorUnits(currency: string): number {
  const code = currency.toUpperCase()
  const cached = minorUnitCache.get(code)
  if (cached !== undefined) return cached
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions()
    .maximumFractionDigits
  const units = digits ?? 2
  minorUnitCache.set(code, units)
  return units
}

/** True when `code` is a three-letter ISO 4217-shaped code the runtime accepts. */
export function isCurrencyCode(code: string): boolean {
  if (!/^[A-Za-z]{3}$/.test(code)) return false
  try {
    minorUnits(code)
    return true
  } catch {
    return false
  }
}

export function decimal(value: string | number): Big {
  return new Big(value)
}

/** The amount rounded to the currency's minor units, as a canonical string ("31.96", "3200", "1.250"). */
export function formatAmount(value: Big | string, currency: string): string {
  return new Big(value).round(minorUnits(currency), ROUNDING_MODE).toFixed(minorUnits(currency))
}

/** How many decimals a decimal string carries ("39.95" → 2, "3200" → 0). */
export function decimalsOf(value: string): number {
  const dot = value.indexOf('.')
  return dot === -1 ? 0 : value.length - dot - 1
}

/*
 * Minor units: the simulator keeps amounts as integers of the currency's minor unit (4900 for "49.00", 3200 for JPY
 * "3200") and uses the same exact arithmetic and half-up rounding as the bridge, never binary-float rounding.
 */

/** Minor units rendered as Recharge's decimal string: 4900 → "49.00" (2 decimals), 3200 → "3200" (0 decimals). */
export function formatMoney(minor: number, decimals: number): string {
  return new Big(minor).round(0, ROUNDING_MODE).div(new Big(10).pow(decimals)).toFixed(decimals)
}

/** Parses "12.5", "12.50", 12.5 or "1250" (zero-decimal) into minor units, half-up; null when not a number. */
export function parseMoney(value: unknown, decimals: number): number | null {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : ''
  if (!/^-?\d+(\.\d+)?$/.test(text)) return null
  return new Big(text).times(new Big(10).pow(decimals)).round(0, ROUNDING_MODE).toNumber()
}

/** A percentage discount applied to an amount in minor units, rounded half-up to a whole minor unit. */
export function applyPercentage(minor: number, percent: number): number {
  return new Big(minor)
    .times(100 - percent)
    .div(100)
    .round(0, ROUNDING_MODE)
    .toNumber()
}
