/**
 * The idempotency store: remembers, per (principal, Idempotency-Key), that a request is in flight and then the
 * response it produced, so a retried write is answered from memory instead of reaching Recharge twice.
 */

/** A response worth replaying: final (2xx or 4xx), small, with the headers a client reads. */
export interface StoredResponse {
  status: number
  headers: Record<string, string>
  body: string
}

export type BeginResult =
  /** Nobody holds the key: this request owns it until complete() or release(). */
  | { kind: 'started'; owner: string }
  /** Another request with this key is still running. */
  | { kind: 'in-flight'; sameRequest: boolean }
  /** The key has a stored response. */
  | { kind: 'completed'; sameRequest: boolean; response: StoredResponse }

export interface IdempotencyStore {
  /** Claim `key` for a request with `fingerprint`, or say who holds it. */
  begin(key: string, fingerprint: string, inFlightTtlMs: number): Promise<BeginResult>
  /** Replace the owner's in-flight marker by the final response (only if the marker is still the owner's). */
  complete(key: string, owner: string, fingerprint: string, response: StoredResponse, ttlMs: number): Promise<void>
  /** Drop the owner's in-flight marker, so the key may be used again (5xx, aborted, unknown outcome). */
  release(key: string, owner: string): Promise<void>
}

/** What a key holds, as stored (JSON in Redis, an object in memory). */
export type StoredEntry =
  | { state: 'in-flight'; fingerprint: string; owner: string }
  | { state: 'done'; fingerprint: string; response: StoredResponse }

export function toBeginResult(entry: StoredEntry, fingerprint: string): BeginResult {
  const sameRequest = entry.fingerprint === fingerprint
  return entry.state === 'in-flight'
    ? { kind: 'in-flight', sameRequest }
    : { kind: 'completed', sameRequest, response: entry.response }
}
