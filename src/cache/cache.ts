import { randomBytes } from 'node:crypto'
import type { RedisClient } from '../infra/redis.ts'
import { CircuitBreaker } from './breaker.ts'
import { type CacheCore, type CacheLog, type CacheSettings, DEFAULT_SETTINGS } from './core.ts'
import { Definition } from './definition.ts'
import type { Entry } from './entry.ts'
import { KeySpace } from './keys.ts'
import { MemoryTier } from './memory-tier.ts'
import { breakerStateValue, type CacheMetrics } from './metrics.ts'
import { RedisTier } from './redis-tier.ts'
import type { Cache, CacheDefinition, CachedFunction } from './types.ts'

export interface TwoTierCacheOptions {
  /** The shared command client, or null for in-process only (one replica). Never closed by the cache. */
  redis: RedisClient | null
  metrics: CacheMetrics
  log: CacheLog
  /** Key prefix (default `rb:c:v1`); carries the envelope version so a deploy can drop everything logically. */
  keyPrefix?: string
  /** Bound of L1 in bytes; 0 disables L1 (every lookup goes to L2). Default 64 MiB. */
  l1MaxBytes?: number
  /** Consecutive Redis failures that open the breaker (default 5) and how long it stays open (default 1 s). */
  breakerThreshold?: number
  breakerCoolDownMs?: number
  settings?: Partial<CacheSettings>
  now?: () => number
}

/** Invalidation message on the pub/sub channel. */
interface InvalidationMessage {
  from: string
  tags?: string[]
  keys?: string[]
}

/** How long an invalidation is remembered, to refuse storing a value fetched before it. */
const INVALIDATION_MEMORY_MS = 120_000
/** Owed L2 purges kept while Redis is unreachable (beyond: the oldest go, bounded by their entries' TTL). */
const MAX_PENDING_PURGES = 10_000
const PURGE_RETRY_MS = 1_000

/**
 * The two-tier cache: L1 (per process) over L2 (Redis), with single-flight fills, SWR, stale-if-error and tag
 * invalidation. Implements the `Cache` contract of types.ts. The plugin wires the pub/sub subscriber to
 * `onInvalidationMessage` and `onResubscribed`.
 */
export class TwoTierCache implements Cache, CacheCore {
  readonly settings: CacheSettings
  readonly keys: KeySpace
  readonly l1: MemoryTier | null
  readonly l2: RedisTier | null
  readonly metrics: CacheMetrics
  readonly log: CacheLog
  readonly instanceId = randomBytes(6).toString('hex')
  readonly inflight = new Map<string, Promise<Entry>>()
  readonly breaker: CircuitBreaker
  epoch = 0
  private leaseSeq = 0
  private readonly clock: () => number
  private readonly names = new Set<string>()
  private readonly invalidatedTags = new Map<string, number>()
  private readonly invalidatedKeys = new Map<string, number>()
  private readonly pending = new Set<Promise<unknown>>()
  private readonly closer = new AbortController()
  private readonly pendingTags = new Set<string>()
  private readonly pendingKeys = new Set<string>()
  private retryTimer: NodeJS.Timeout | undefined
  private retrying = false

  constructor(options: TwoTierCacheOptions) {
    this.settings = { ...DEFAULT_SETTINGS, ...options.settings }
    this.keys = new KeySpace(options.keyPrefix)
    this.metrics = options.metrics
    this.log = options.log
    this.clock = options.now ?? Date.now
    const l1MaxBytes = options.l1MaxBytes ?? 64 * 1024 * 1024
    this.l1 = l1MaxBytes > 0 ? new MemoryTier({ maxBytes: l1MaxBytes }) : null
    this.breaker = new CircuitBreaker({
      failureThreshold: options.breakerThreshold ?? 5,
      coolDownMs: options.breakerCoolDownMs ?? 1_000,
      now: this.clock,
      onChange: (state) => {
        this.metrics.breakerState.set(breakerStateValue(state))
        if (state === 'open') this.log.warn({ breaker: state }, 'cache: Redis failing, skipping it for a while')
        else if (state === 'closed') this.log.warn({ breaker: state }, 'cache: Redis back, breaker closed')
      },
    })
    this.metrics.breakerState.set(0)
    let lastErrorLog = 0
    this.l2 =
      options.redis === null
        ? null
        : new RedisTier({
            client: options.redis,
            keys: this.keys,
            breaker: this.breaker,
            onError: (operation, error) => {
              this.metrics.redisErrors.labels({ operation }).inc()
              const now = this.clock()
              if (now - lastErrorLog > 5_000) {
                lastErrorLog = now
                const message = error instanceof Error ? error.message : 'unknown'
                this.log.warn({ operation, err: { message } }, 'cache: Redis call failed; serving from L1/origin')
              }
            },
          })
  }

  define<A, T>(name: string, definition: CacheDefinition<A, T>): CachedFunction<A, T> {
    if (this.names.has(name)) throw new Error(`cache ${name} is already defined`)
    this.names.add(name)
    return new Definition<A, T>(this, name, definition).toFunction()
  }

  /**
   * Drops every entry tagged with any of `tags`: this replica's L1 at once, then L2, then tells the other replicas
   * (pub/sub) which tags and keys to drop. When Redis cannot be reached, the L2 purge and the message are kept and
   * retried every second until Redis is back (bounded): a write or a webhook never fails because the cache is down.
   */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return
    const unique = [...new Set(tags)]
    this.applyInvalidation(unique, [], 'local')
    await this.purge(unique, [])
  }

  /** Drops entries by their full keys (cached function `.invalidate(args)`), on every replica. */
  async invalidateKeys(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return
    this.applyInvalidation([], keys, 'local')
    await this.purge([], [...new Set(keys)])
  }

  /** Purges still owed to L2 (Redis was unreachable when they were asked for). */
  get pendingPurges(): number {
    return this.pendingTags.size + this.pendingKeys.size
  }

  private async purge(tags: readonly string[], keys: readonly string[]): Promise<void> {
    const l2 = this.l2
    if (l2 === null) return
    try {
      if (tags.length > 0) await l2.invalidateTags(tags)
      await l2.delete(keys)
      // Tags, not the keys they index: every L1 entry carries its tags, and a `catalog` purge may cover thousands.
      const message: InvalidationMessage = { from: this.instanceId, tags: [...tags], keys: [...keys] }
      if (!(await l2.publish(JSON.stringify(message)))) throw new Error('publish failed')
    } catch {
      this.owe(tags, keys)
    }
  }

  private owe(tags: readonly string[], keys: readonly string[]): void {
    for (const tag of tags) this.pendingTags.add(tag)
    for (const key of keys) this.pendingKeys.add(key)
    for (const set of [this.pendingTags, this.pendingKeys]) {
      for (const oldest of set) {
        if (set.size <= MAX_PENDING_PURGES) break
        set.delete(oldest)
        this.metrics.notStored.labels({ cache: '*', reason: 'purge_dropped' }).inc()
      }
    }
    this.metrics.pendingPurges.set(this.pendingPurges)
    if (this.retryTimer !== undefined || this.closer.signal.aborted) return
    this.log.warn({ pending: this.pendingPurges }, 'cache: Redis unreachable; invalidation kept for retry')
    this.retryTimer = setInterval(() => this.retryPurges(), PURGE_RETRY_MS)
    this.retryTimer.unref()
  }

  private retryPurges(): void {
    if (this.retrying || this.l2 === null || !this.l2.usable) return
    const tags = [...this.pendingTags]
    const keys = [...this.pendingKeys]
    this.pendingTags.clear()
    this.pendingKeys.clear()
    this.retrying = true
    const work = this.purge(tags, keys).finally(() => {
      this.retrying = false
      this.metrics.pendingPurges.set(this.pendingPurges)
      if (this.pendingPurges === 0 && this.retryTimer !== undefined) {
        clearInterval(this.retryTimer)
        this.retryTimer = undefined
      }
    })
    this.track(work)
  }

  /** A message from the invalidation channel (another replica, or ourselves: ignored). */
  onInvalidationMessage(text: string): void {
    let message: InvalidationMessage
    try {
      message = JSON.parse(text) as InvalidationMessage
    } catch {
      return
    }
    if (message.from === this.instanceId) return
    const tags = Array.isArray(message.tags) ? message.tags.filter((t) => typeof t === 'string') : []
    const keys = Array.isArray(message.keys) ? message.keys.filter((k) => typeof k === 'string') : []
    this.applyInvalidation(tags, keys, 'remote')
  }

  /**
   * The subscriber reconnected: messages sent meanwhile were lost, so every L1 entry re-checks L2 before it is
   * served as fresh again (entries stay as stale-if-error fallbacks).
   */
  onResubscribed(): void {
    this.epoch += 1
  }

  now(): number {
    return this.clock()
  }

  nextLeaseOwner(): string {
    this.leaseSeq += 1
    return `${this.instanceId}:${this.leaseSeq}`
  }

  invalidatedSince(key: string, tags: readonly string[], since: number): boolean {
    if ((this.invalidatedKeys.get(key) ?? -1) >= since) return true
    for (const tag of tags) if ((this.invalidatedTags.get(tag) ?? -1) >= since) return true
    return false
  }

  get closing(): AbortSignal {
    return this.closer.signal
  }

  track(work: Promise<unknown>): void {
    const settled = work.catch(() => {})
    this.pending.add(settled)
    void settled.then(() => this.pending.delete(settled))
  }

  l1Stored(): void {
    if (this.l1 === null) return
    this.metrics.l1Bytes.set(this.l1.bytes)
    this.metrics.l1Entries.set(this.l1.size)
  }

  /** Abort background fetches and wait (bounded) for pending L2 writes. */
  async close(timeoutMs = 1_000): Promise<void> {
    this.closer.abort(new Error('cache closing'))
    if (this.retryTimer !== undefined) clearInterval(this.retryTimer)
    this.retryTimer = undefined
    const all = Promise.all([...this.pending])
    let timer: NodeJS.Timeout | undefined
    await Promise.race([all, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))])
    clearTimeout(timer)
  }

  private applyInvalidation(tags: readonly string[], keys: readonly string[], source: 'local' | 'remote'): void {
    const now = this.clock()
    this.forgetOldInvalidations(now)
    for (const tag of tags) this.invalidatedTags.set(tag, now)
    for (const key of keys) this.invalidatedKeys.set(key, now)
    const dropped = this.l1 ? this.l1.deleteTagged(tags) : []
    for (const key of keys) this.l1?.delete(key)
    // New callers must not join a fetch that started before the invalidation.
    for (const key of [...dropped, ...keys]) this.inflight.delete(key)
    this.metrics.invalidations.labels({ source }).inc()
    this.l1Stored()
  }

  private forgetOldInvalidations(now: number): void {
    if (this.invalidatedTags.size + this.invalidatedKeys.size < 10_000) return
    for (const map of [this.invalidatedTags, this.invalidatedKeys]) {
      for (const [name, at] of map) if (now - at > INVALIDATION_MEMORY_MS) map.delete(name)
    }
  }
}
