import type { Entry } from './entry.ts'
import type { KeySpace } from './keys.ts'
import type { MemoryTier } from './memory-tier.ts'
import type { CacheMetrics } from './metrics.ts'
import type { RedisTier } from './redis-tier.ts'

export interface CacheLog {
  warn(object: object, message: string): void
  debug(object: object, message: string): void
}

/** Tunables shared by every definition of one cache. */
export interface CacheSettings {
  /** Caller deadline when none is given (interactive lane). */
  defaultDeadlineMs: number
  /** Deadline of a background refresh (background lane). */
  backgroundDeadlineMs: number
  /** Longest an L1 entry is trusted as fresh without re-checking L2 (bounds the effect of a lost pub/sub message). */
  l1CheckMs: number
  /** How often a follower looks for the lease holder's result. */
  leasePollMs: number
  /** Lease lifetime beyond the holder's deadline (the holder may crash: the lease must expire on its own). */
  leaseMarginMs: number
  /** How long a failed or NotFound outcome is left in the lease for followers (stops N replicas repeating it). */
  outcomeMarkerMs: number
  /** Default largest entry stored, bytes. */
  maxEntryBytes: number
}

export const DEFAULT_SETTINGS: CacheSettings = {
  defaultDeadlineMs: 3_000,
  backgroundDeadlineMs: 15_000,
  l1CheckMs: 5_000,
  leasePollMs: 25,
  leaseMarginMs: 1_000,
  outcomeMarkerMs: 1_000,
  maxEntryBytes: 256 * 1024,
}

/** What a definition needs from the cache that owns it. */
export interface CacheCore {
  readonly settings: CacheSettings
  readonly keys: KeySpace
  readonly l1: MemoryTier | null
  readonly l2: RedisTier | null
  readonly metrics: CacheMetrics
  readonly log: CacheLog
  readonly instanceId: string
  /** Bumped when this replica may have missed invalidation messages: L1 entries of older epochs re-check L2. */
  readonly epoch: number
  /** Fetches in flight in this process, by entry key (in-process single-flight). */
  readonly inflight: Map<string, Promise<Entry>>
  now(): number
  nextLeaseOwner(): string
  /** True when the key or one of the tags was invalidated at or after `since` (a fetch that started before it). */
  invalidatedSince(key: string, tags: readonly string[], since: number): boolean
  /** Background work the cache waits for (or abandons) when it closes. */
  track(work: Promise<unknown>): void
  readonly closing: AbortSignal
  l1Stored(): void
  invalidateKeys(keys: readonly string[]): Promise<void>
}
