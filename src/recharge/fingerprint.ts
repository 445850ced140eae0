import { createHash } from 'node:crypto'

/**
 * A short, stable name for a token (first 16 hex chars of its SHA-256): Redis keys and logs name the budget by it, so
 * replicas using one token share one bucket and the token itself is never written anywhere.
 */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16)
}
