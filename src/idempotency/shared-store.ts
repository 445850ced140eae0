import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { LRUCache } from 'lru-cache'
import { MemoryIdempotencyStore } from './memory-store.ts'
import type { RedisIdempotencyStore } from './redis-store.ts'
import type { BeginResult, IdempotencyStore, IdempotencyTimings, StoredResponse } from './types.ts'

/** The shared store could not be asked: a keyed write must not go ahead (there is no safe answer). */
export class IdempotencyStoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super('the idempotency store is unavailable', { cause })
    this.name = 'IdempotencyStoreUnavailableError'
  }
}

/**
 * The store of a replica that shares Redis with others. Redis decides; there is no in-process fallback, because an
 * answer kept only here is invisible to the other replicas and to this one's next question to Redis. Instead:
 *
 *  - Redis unreachable at `begin` or `dispatch`, or too few replicas acknowledged the dispatched marker
 *    (REDIS_IDEMPOTENCY_REPLICAS): IdempotencyStoreUnavailableError, and nothing is sent.
 *  - Every owner token whose request gave up before sending is remembered (`abandoned`): a command that reached a
 *    frozen Redis may still land when it wakes up, leaving a marker nobody holds. When this replica's retry finds
 *    such a marker, it takes the key over (nothing was sent under it), instead of waiting for it to expire.
 *  - What this replica dispatched and answered is also remembered here (`sent`), because Redis may fail to store an
 *    answer, or restart without its data. A same-key retry on this replica then gets the answer (or the truth that
 *    the write was sent), never a second write; the entry is written back to Redis for the other replicas.
 */
export class SharedIdempotencyStore implements IdempotencyStore {
  private readonly redis: RedisIdempotencyStore
  private readonly sent: MemoryIdempotencyStore
  private readonly abandoned = new LRUCache<string, string>({ max: 10_000, ttl: 24 * 60 * 60 * 1000 })
  private readonly timings: IdempotencyTimings
  private readonly log: FastifyBaseLogger

  constructor(redis: RedisIdempotencyStore, timings: IdempotencyTimings, log: FastifyBaseLogger) {
    this.redis = redis
    this.sent = new MemoryIdempotencyStore(timings)
    this.timings = timings
    this.log = log
  }

  async begin(key: string, fingerprint: string): Promise<BeginResult> {
    const owner = randomUUID()
    let result: BeginResult
    try {
      result = await this.redis.begin(key, fingerprint, owner)
      if (result.kind !== 'started' && result.kind !== 'completed' && this.abandoned.get(result.holder) === key) {
        // A marker of one of this replica's requests that sent nothing: take the key over.
        this.abandoned.set(owner, key)
        if (await this.redis.takeOver(key, result.holder, fingerprint, owner)) {
          this.abandoned.delete(result.holder)
          this.abandoned.delete(owner)
          result = { kind: 'started', owner }
        }
      }
    } catch (error) {
      this.abandoned.set(owner, key)
      throw new IdempotencyStoreUnavailableError(error)
    }
    return this.reconcile(key, fingerprint, result)
  }

  async dispatch(key: string, owner: string, fingerprint: string): Promise<void> {
    try {
      await this.redis.dispatch(key, owner, fingerprint)
    } catch (error) {
      // Nothing is sent when dispatch fails, even if the command lands later.
      this.abandoned.set(owner, key)
      if (error instanceof Error && error.name === 'ClaimLostError') throw error
      throw new IdempotencyStoreUnavailableError(error)
    }
    this.sent.set(key, { state: 'dispatched', fingerprint, owner }, this.timings.answerTtlMs)
  }

  async complete(key: string, owner: string, fingerprint: string, response: StoredResponse): Promise<void> {
    const remembered = this.sent.peek(key)?.entry
    if (remembered?.state === 'dispatched' && remembered.owner === owner) {
      this.sent.set(key, { state: 'done', fingerprint, response }, this.timings.answerTtlMs)
    }
    await this.redis.complete(key, owner, fingerprint, response)
  }

  async release(key: string, owner: string): Promise<void> {
    const remembered = this.sent.peek(key)?.entry
    if (remembered && remembered.state !== 'done' && remembered.owner === owner) this.sent.delete(key)
    try {
      await this.redis.release(key, owner)
    } catch (error) {
      this.abandoned.set(owner, key)
      throw error
    }
  }

  /** Prefer what this replica knows it sent over a Redis that has less (a failed store, a restart without data). */
  private async reconcile(key: string, fingerprint: string, result: BeginResult): Promise<BeginResult> {
    if (result.kind === 'completed') return result
    const remembered = this.sent.peek(key)
    if (!remembered) return result
    const { entry } = remembered
    if (result.kind === 'started') {
      // Redis lost the key: write back what this replica knows, so every replica sees it again.
      const restored = await this.redis.restore(key, result.owner, entry).catch(() => false)
      if (!restored) this.log.warn('idempotency store: could not write a remembered key back to Redis')
      this.log.warn('idempotency store: Redis had lost a key this replica had sent; answered from memory')
    }
    const sameRequest = entry.fingerprint === fingerprint
    if (entry.state === 'done') return { kind: 'completed', sameRequest, response: entry.response }
    if (entry.state === 'dispatched' && result.kind === 'started') {
      const since = Date.now() - remembered.at
      return since >= this.timings.reserveTtlMs
        ? { kind: 'unsettled', sameRequest, holder: entry.owner }
        : { kind: 'in-flight', sameRequest, holder: entry.owner }
    }
    return result
  }
}
