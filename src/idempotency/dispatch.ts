import type { FastifyRequest } from 'fastify'
import { AppError } from '../errors.ts'
import { ClaimLostError, type IdempotencyStore } from './types.ts'

/** Seconds a client waits before retrying a keyed write refused while the store is unreachable. */
const STORE_UNAVAILABLE_RETRY_AFTER_S = 2

/** A keyed request's hold on its Idempotency-Key, set by the idempotency plugin (src/plugins/idempotency.ts). */
interface Claim {
  key: string
  owner: string
  fingerprint: string
  store: IdempotencyStore
  /** The store recorded that the write is being sent: from here on the key is never released to a re-run. */
  dispatched: boolean
}

export const claims = new WeakMap<FastifyRequest, Claim>()

export function storeUnavailable(): AppError {
  return new AppError('IDEMPOTENCY_STORE_UNAVAILABLE', {
    detail:
      'Writes with an Idempotency-Key are paused because the store that remembers keys cannot be reached; nothing ' +
      'was sent. Retry with the same key shortly.',
    retryAfter: STORE_UNAVAILABLE_RETRY_AFTER_S,
  })
}

/**
 * Call right before a keyed request sends its write upstream (a route with `config.idempotency` must). It resolves
 * once the store has recorded that the write is being sent, and throws a 503 IDEMPOTENCY_STORE_UNAVAILABLE (or a 409
 * when the reservation lapsed) otherwise, so the write is not sent. A no-op without a key, and after the first call.
 */
export async function beforeIdempotentWrite(request: FastifyRequest): Promise<void> {
  const claim = claims.get(request)
  if (!claim || claim.dispatched) return
  try {
    await claim.store.dispatch(claim.key, claim.owner, claim.fingerprint)
  } catch (error) {
    if (error instanceof ClaimLostError) {
      throw new AppError('IDEMPOTENCY_KEY_IN_USE', {
        detail: "This request's hold on its Idempotency-Key lapsed before anything was sent; retry in a moment.",
        retryAfter: 1,
      })
    }
    request.log.warn({ err: { message: (error as Error).message } }, 'idempotency store unavailable at dispatch')
    throw storeUnavailable()
  }
  claim.dispatched = true
}
