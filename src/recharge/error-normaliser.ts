import type { FieldError } from '../errors.ts'
import {
  RechargeConflictError,
  type RechargeError,
  type RechargeErrorInit,
  RechargeNotFoundError,
  RechargeRateLimitedError,
  RechargeTimeoutError,
  RechargeUnavailableError,
  RechargeValidationError,
} from './errors.ts'

/**
 * One normaliser for every error body Recharge is known to send (see research/recharge.md §1.4):
 *   {"errors": "Not Found"}                                  bare string
 *   {"errors": {"email": "taken"}} / {"first_name": ["…"]}  map of field → string | string[]
 *   {"errors": {"billing_address": {"address1": ["…"]}}}    nested map
 *   {"errors": {"_schema": ["city, … are required"]}}        schema-level messages
 *   {"error": "A call to this route is already in progress."} singular
 *   {"warning": "too many requests"}                          legacy
 *   non-JSON (gateway HTML), truncated JSON, empty body
 */

export interface UpstreamFailure {
  status: number
  /** Raw body text (may be empty, truncated or not JSON). Read here, never copied into a message. */
  text: string
  upstreamRequestId?: string | undefined
  operation?: string | undefined
  /** Seconds from a Retry-After header, when Recharge sent one. */
  retryAfterSeconds?: number | undefined
}

export interface ParsedErrorBody {
  message: string | undefined
  fieldErrors: FieldError[]
}

const MAX_MESSAGE_LENGTH = 300

function clip(text: string): string {
  const trimmed = text.trim()
  return trimmed.length > MAX_MESSAGE_LENGTH ? `${trimmed.slice(0, MAX_MESSAGE_LENGTH)}…` : trimmed
}

/** Flatten an `errors` value into field errors; `_schema` (request-level) messages get the field `request`. */
function collect(value: unknown, path: readonly string[], into: FieldError[]): void {
  const field = path.filter((segment) => segment !== '_schema').join('.') || 'request'
  if (typeof value === 'string') {
    if (value.trim()) into.push({ field, message: clip(value) })
  } else if (typeof value === 'number' || typeof value === 'boolean') {
    into.push({ field, message: String(value) })
  } else if (Array.isArray(value)) {
    for (const item of value) collect(item, path, into)
  } else if (value && typeof value === 'object') {
    for (const [key, nested] of Object.entries(value)) collect(nested, [...path, key], into)
  }
}

export function parseErrorBody(text: string): ParsedErrorBody {
  let body: unknown
  try {
    body = text.trim() ? JSON.parse(text) : undefined
  } catch {
    // Not JSON (a gateway page, a truncated body): nothing structured to keep.
    return { message: undefined, fieldErrors: [] }
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    return { message: typeof body === 'string' ? clip(body) : undefined, fieldErrors: [] }
  }
  const record = body as Record<string, unknown>
  for (const key of ['errors', 'error', 'warning'] as const) {
    const value = record[key]
    if (value === undefined || value === null) continue
    if (typeof value === 'string') return { message: clip(value), fieldErrors: [] }
    const fieldErrors: FieldError[] = []
    collect(value, [], fieldErrors)
    const message = fieldErrors.map((error) => `${error.field}: ${error.message}`).join('; ')
    // A top-level array of messages (`{"errors": ["…"]}`) is request-level, not field-level.
    return { message: message || undefined, fieldErrors }
  }
  return { message: undefined, fieldErrors: [] }
}

/** Map a non-2xx upstream answer to its typed error. */
export function errorFromResponse(failure: UpstreamFailure): RechargeError {
  const { status } = failure
  const parsed = parseErrorBody(failure.text)
  const init: RechargeErrorInit = {
    status,
    upstreamRequestId: failure.upstreamRequestId,
    operation: failure.operation,
    upstreamMessage: parsed.message,
    fieldErrors: parsed.fieldErrors,
  }
  const where = failure.operation ? ` (${failure.operation})` : ''
  if (status === 404) return new RechargeNotFoundError(`Recharge: not found${where}`, init)
  if (status === 409) return new RechargeConflictError(`Recharge: concurrent change refused${where}`, init)
  if (status === 429) {
    return new RechargeRateLimitedError(`Recharge: rate limited${where}`, {
      ...init,
      reason: 'upstream',
      retryAfterSeconds: failure.retryAfterSeconds ?? 2,
    })
  }
  if (status === 400 || status === 402 || status === 422) {
    return new RechargeValidationError(`Recharge rejected the request with ${status}${where}`, init)
  }
  if (status === 504) return new RechargeTimeoutError(`Recharge gateway timed out${where}`, init)
  // 401/403/426 mean our token or version is wrong (an operator problem), 5xx an upstream problem: both are "Recharge
  // is not usable right now" for the caller.
  return new RechargeUnavailableError(`Recharge answered ${status}${where}`, init)
}

/** `Retry-After` as seconds (delta or HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, (at - now) / 1000)
}

const LIMIT_HEADER = /^\s*(\d+)\s*\/\s*(\d+)\s*$/

/** `X-Recharge-Limit: 39/40` → {used: 39, size: 40}. */
export function parseLimitHeader(value: string | undefined): { used: number; size: number } | undefined {
  const match = value ? LIMIT_HEADER.exec(value) : null
  if (!match) return undefined
  const used = Number(match[1])
  const size = Number(match[2])
  return size > 0 ? { used, size } : undefined
}
