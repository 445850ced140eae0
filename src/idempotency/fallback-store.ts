import type { FastifyBaseLogger } from 'fastify'
import type { BeginResult, IdempotencyStore, StoredResponse } from './types.ts'

/**
 * Redis first; while Redis fails, the in-process store (this replica only) so writes keep working and a retry that
 * lands on the same replica is still deduplicated. Owners minted by the fallback are remembered, so complete/release
 * go to the store that holds the marker.
 */
export class FallbackIdempotencyStore implements IdempotencyStore {
  private readonly primary: IdempotencyStore
  private readonly fallback: IdempotencyStore
  private readonly log: FastifyBaseLogger
  private readonly fallbackOwners = new Set<string>()
  private lastWarnAt = 0

  constructor(primary: IdempotencyStore, fallback: IdempotencyStore, log: FastifyBaseLogger) {
    this.primary = primary
    this.fallback = fallback
    this.log = log
  }

  async begin(key: string, fingerprint: string, inFlightTtlMs: number): Promise<BeginResult> {
    try {
      return await this.primary.begin(key, fingerprint, inFlightTtlMs)
    } catch (error) {
      this.warn(error)
      const result = await this.fallback.begin(key, fingerprint, inFlightTtlMs)
      if (result.kind === 'started') this.fallbackOwners.add(result.owner)
      return result
    }
  }

  async complete(
    key: string,
    owner: string,
    fingerprint: string,
    response: StoredResponse,
    ttlMs: number,
  ): Promise<void> {
    if (this.fallbackOwners.delete(owner)) return this.fallback.complete(key, owner, fingerprint, response, ttlMs)
    return this.primary.complete(key, owner, fingerprint, response, ttlMs)
  }

  async release(key: string, owner: string): Promise<void> {
    if (this.fallbackOwners.delete(owner)) return this.fallback.release(key, owner)
    return this.primary.release(key, owner)
  }

  private warn(error: unknown): void {
    const now = Date.now()
    if (now - this.lastWarnAt < 5_000) return
    this.lastWarnAt = now
    this.log.warn(
      { err: { message: (error as Error).message } },
      'idempotency store: Redis unavailable, using this replica only',
    )
  }
}
