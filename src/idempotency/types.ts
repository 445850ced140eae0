/**
 * The idempotency store: remembers, per (principal, Idempotency-Key), that a request holds the key, whether its write
 * was sent to Recharge, and then the response it produced, so a retried write is answered from memory instead of
 * reaching Recharge twice.
 *
 * A key goes through up to three states:
 *  - reserved: a request holds the key and has sent nothing yet. Short-lived (the reservation window): a reservation
 *    whose holder vanished frees the key on its own, which is safe because nothing was sent.
 *  - dispatched: the holder is about to send (or has sent) its write. Lives as long as answers do: if the answer is
 *    never stored (Redis failed at that moment, the process died), the key stays taken and says so, instead of
 *    letting a retry send the write a second time.
 *  - done: the answer, replayed to every same-key retry.
 */

/** A response worth replaying: final (2xx or 4xx), small, with the headers a client reads. */
export interface StoredResponse {
  status: number
  headers: Record<string, string>
  body: string
}

export type BeginResult =
  /** Nobody held the key: this request holds it (reserved) until dispatch, complete or release. */
  | { kind: 'started'; owner: string }
  /** Another request holds the key and may still be running (reserved, or dispatched within the window). */
  | { kind: 'in-flight'; sameRequest: boolean; holder: string }
  /** A request sent its write longer than the reservation window ago and its answer was never stored. */
  | { kind: 'unsettled'; sameRequest: boolean; holder: string }
  /** The key has a stored response. */
  | { kind: 'completed'; sameRequest: boolean; response: StoredResponse }

export interface IdempotencyTimings {
  /** How long a reservation lives, and how long after dispatch a request may still be running. */
  reserveTtlMs: number
  /** How long a dispatched marker and a stored answer live. */
  answerTtlMs: number
}

export interface IdempotencyStore {
  /** Claim `key` for a request with `fingerprint` under a new owner token, or say who holds it. */
  begin(key: string, fingerprint: string): Promise<BeginResult>
  /**
   * Record that the owner is about to send its write. Resolves only once the store has recorded it; throws
   * ClaimLostError when the reservation is no longer the owner's (nothing may be sent then).
   */
  dispatch(key: string, owner: string, fingerprint: string): Promise<void>
  /** Replace the owner's marker by the final response (only if the marker is still the owner's). */
  complete(key: string, owner: string, fingerprint: string, response: StoredResponse): Promise<void>
  /** Drop the owner's marker, so the key may be used again (nothing was sent, or what was sent was refused). */
  release(key: string, owner: string): Promise<void>
}

/** The owner's reservation expired or was taken over before its write was sent. */
export class ClaimLostError extends Error {
  constructor() {
    super('the reservation of this idempotency key is no longer held')
    this.name = 'ClaimLostError'
  }
}

/** What a key holds, as stored (JSON in Redis, an object in memory). `in-flight` is the older name of `reserved`. */
export type StoredEntry =
  | { state: 'reserved' | 'in-flight'; fingerprint: string; owner: string }
  | { state: 'dispatched'; fingerprint: string; owner: string }
  | { state: 'done'; fingerprint: string; response: StoredResponse }

/** `sinceDispatchMs`: how long ago a dispatched entry was dispatched (unused for other states). */
export function toBeginResult(
  entry: StoredEntry,
  fingerprint: string,
  sinceDispatchMs: number,
  timings: IdempotencyTimings,
): BeginResult {
  const sameRequest = entry.fingerprint === fingerprint
  if (entry.state === 'done') return { kind: 'completed', sameRequest, response: entry.response }
  if (entry.state === 'dispatched' && sinceDispatchMs >= timings.reserveTtlMs) {
    return { kind: 'unsettled', sameRequest, holder: entry.owner }
  }
  return { kind: 'in-flight', sameRequest, holder: entry.owner }
}

export function parseEntry(text: string): StoredEntry {
  const entry = JSON.parse(text) as StoredEntry
  if (!['reserved', 'in-flight', 'dispatched', 'done'].includes(entry.state)) {
    throw new Error('unreadable idempotency entry')
  }
  return entry
}
