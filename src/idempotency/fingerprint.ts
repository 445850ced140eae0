import { createHash } from 'node:crypto'

/**
 * What makes two requests "the same" for Idempotency-Key purposes: method, path (with its ids and query), the
 * principal and the body. Bodies are compared as canonical JSON (keys sorted), so the same object sent with keys in
 * another order is the same request.
 */
export function requestFingerprint(parts: { method: string; url: string; principal: string; body: unknown }): string {
  const hash = createHash('sha256')
  hash.update(parts.method.toUpperCase())
  hash.update('\n')
  hash.update(parts.url)
  hash.update('\n')
  hash.update(parts.principal)
  hash.update('\n')
  hash.update(canonicalJson(parts.body ?? null))
  return hash.digest('base64url')
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`
}

/** The storage key: hashed, so neither the client's key nor the principal appears in Redis key names. */
export function storageKey(prefix: string, principal: string, idempotencyKey: string): string {
  const scope = createHash('sha256').update(principal).digest('base64url').slice(0, 22)
  const key = createHash('sha256').update(idempotencyKey).digest('base64url')
  // The hash tag keeps one principal's keys on one Redis Cluster slot.
  return `${prefix}{${scope}}:${key}`
}

const validKey = /^[\x20-\x7e]{1,255}$/

/** Idempotency-Key: 1–255 printable ASCII characters (a UUID is the usual choice). */
export function isValidIdempotencyKey(value: string): boolean {
  return validKey.test(value)
}
