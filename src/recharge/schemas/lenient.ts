import { z } from 'zod'

/**
 * Lenient building blocks for upstream (Recharge) bodies. Recharge's shapes drift between versions and endpoints:
 * money as "9.99" or 9.99, frequencies as "1" or 1, dates with or without an offset, flags as true/false or 1/0,
 * ids as numbers or strings, lists and objects as JSON text, "" where a value is absent. Parse what the wire says into
 * one form; reject only what cannot mean anything. Schemas built from these list only the fields the bridge uses:
 * any other key is dropped unread, whatever its type (test/security/upstream-odd-fields.test.ts).
 */

/** Real store exports carry some arrays and objects as JSON text (`"[]"`, `"{\"ecommerce\":\"1\"}"`). */
function decodeJsonText(value: unknown): unknown {
  if (typeof value !== 'string') return value
  const text = value.trim()
  if (!(text.startsWith('[') || text.startsWith('{'))) return value
  try {
    return JSON.parse(text)
  } catch {
    return value
  }
}

/** An array or object field that may arrive as JSON text. */
export function jsonText<T extends z.ZodType>(schema: T) {
  return z.preprocess(decodeJsonText, schema)
}

/** Money in the store currency as a canonical decimal string ("9.99", "3200"); accepts string or number. */
export const money = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const text = typeof value === 'number' ? String(value) : value.trim()
  if (!/^-?\d+(\.\d+)?$/.test(text)) {
    ctx.addIssue({ code: 'custom', message: `not a decimal amount: ${JSON.stringify(value).slice(0, 40)}` })
    return z.NEVER
  }
  return text
})

/** An integer sent as a number or a numeric string. */
export const integer = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const number = typeof value === 'number' ? value : Number(value.trim())
  if (!Number.isInteger(number)) {
    ctx.addIssue({ code: 'custom', message: `not an integer: ${JSON.stringify(value).slice(0, 40)}` })
    return z.NEVER
  }
  return number
})

/** Recharge ids: numbers in 2021-11, strings elsewhere. We carry them as strings (JS numbers lose past 2^53). */
export const id = z.union([z.number().int(), z.string().trim().regex(/^\d+$/)]).transform(String)

/** External platform ids (product/variant/customer): arbitrary strings or numbers, carried as strings. */
export const externalId = z.union([z.string().min(1), z.number()]).transform(String)

/** true/false, 1/0, "true"/"false", "1"/"0", "yes"/"no". */
export const flag = z.union([z.boolean(), z.number(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'boolean') return value
  const text = String(value).trim().toLowerCase()
  if (['1', 'true', 'yes'].includes(text)) return true
  if (['0', 'false', 'no', ''].includes(text)) return false
  ctx.addIssue({ code: 'custom', message: `not a flag: ${JSON.stringify(value).slice(0, 40)}` })
  return z.NEVER
})

/**
 * A timestamp with or without offset ("2021-11-10T10:00:00", "2021-11-10T10:00:00+00:00", "2021-11-10"). Recharge
 * sends naive times in UTC; we normalise to ISO 8601 UTC with a Z.
 */
export const timestamp = z.string().transform((value, ctx) => {
  // "2021-11-10 10:00:00" (exports) is the same instant as "2021-11-10T10:00:00".
  const text = value.trim().replace(/^(\d{4}-\d{2}-\d{2}) (\d{2}:)/, '$1T$2')
  const naive = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(text)
  const parsed = new Date(naive ? (text.length === 10 ? `${text}T00:00:00Z` : `${text}Z`) : text)
  if (Number.isNaN(parsed.getTime())) {
    ctx.addIssue({ code: 'custom', message: `not a date: ${JSON.stringify(value).slice(0, 40)}` })
    return z.NEVER
  }
  return parsed.toISOString()
})

/** A calendar date ("2021-11-10", or a timestamp of which we keep the date part). */
export const date = z.string().transform((value, ctx) => {
  const match = /^(\d{4}-\d{2}-\d{2})/.exec(value.trim())
  if (!match?.[1] || Number.isNaN(new Date(`${match[1]}T00:00:00Z`).getTime())) {
    ctx.addIssue({ code: 'custom', message: `not a date: ${JSON.stringify(value).slice(0, 40)}` })
    return z.NEVER
  }
  return match[1]
})

/** Optional on the wire (absent or null) → null in our model. */
export function nullish<T extends z.ZodType>(schema: T) {
  return schema.nullish().transform((value) => value ?? null)
}

/**
 * Optional, and "" (or blanks) also means absent: for values that are never text (money, numbers, dates, flags,
 * ids), where exports write an empty cell for "none".
 */
export function blankable<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? null : value), nullish(schema))
}

/** Interval units arrive as "day"/"days"/"Day"/"week"/"month"...; normalised to the singular lower-case form. */
export const intervalUnit = z.string().transform((value, ctx) => {
  const unit = value.trim().toLowerCase().replace(/s$/, '')
  if (unit === 'day' || unit === 'week' || unit === 'month') return unit
  ctx.addIssue({ code: 'custom', message: `not an interval unit: ${JSON.stringify(value).slice(0, 40)}` })
  return z.NEVER
})

/** A list that Recharge may omit, send as null, "" or JSON text: always an array in our model. */
export function listOf<T extends z.ZodType>(schema: T) {
  return z.preprocess(
    (value) => (typeof value === 'string' && value.trim() === '' ? null : decodeJsonText(value)),
    z
      .array(schema)
      .nullish()
      .transform((value) => value ?? []),
  )
}
