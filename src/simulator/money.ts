/**
 * Money is kept in minor units (integers) and rendered as Recharge's decimal strings: "49.00", or "3200" for a
 * zero-decimal currency such as JPY.
 */
export function formatMoney(minor: number, decimals: number): string {
  if (decimals === 0) return String(Math.round(minor))
  const sign = minor < 0 ? '-' : ''
  const abs = Math.abs(Math.round(minor))
  const factor = 10 ** decimals
  return `${sign}${Math.floor(abs / factor)}.${String(abs % factor).padStart(decimals, '0')}`
}

/** Parses "12.5", "12.50", 12.5 or "1250" (zero-decimal) into minor units; null when not a number. */
export function parseMoney(value: unknown, decimals: number): number | null {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : ''
  if (!/^-?\d+(\.\d+)?$/.test(text)) return null
  return Math.round(Number(text) * 10 ** decimals)
}

/** A percentage discount applied to a price, rounded to the currency's minor unit. */
export function applyPercentage(minor: number, percent: number): number {
  return Math.round((minor * (100 - percent)) / 100)
}
