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
