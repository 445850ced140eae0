import type { Lane } from '../infra/lane.ts'

/** Contract of the two-tier read cache (src/cache). Decorated on the app as `app.cache`. */

export type CacheState = 'HIT' | 'MISS' | 'STALE'

export interface CachePolicy<A, T> {
  /** How long an entry is fresh. */
  ttlMs: number
  /** After fresh: serve at once and refresh once in the background (background lane). Default 0. */
  staleWhileRevalidateMs?: number
  /** After fresh (and SWR): serve the stale entry when the origin fails, times out or the queue rejects. Default 0. */
  staleIfErrorMs?: number
  /** Cache a NotFound answer this long (default 0 = do not). */
  negativeTtlMs?: number
  /** Tags of an entry, for invalidation: `customer:<id>`, `subscription:<id>`, `product:<external id>`, `catalog`. */
  tags?: (args: A, value: T | undefined) => readonly string[]
  /** Largest serialised entry to keep, bytes (default 256 KiB). */
  maxEntryBytes?: number
  /**
   * Hits from L1 share one parsed value per entry instead of parsing `json` for each caller: `value` is then
   * deep-frozen (mutating it throws) and the same object on every hit of that entry. For hot read-only values.
   */
  shareValue?: boolean
}

export interface FetchContext {
  lane: Lane
  /** Milliseconds the fetch may take. */
  deadlineMs: number
  signal?: AbortSignal
}

export interface CacheResult<T> {
  value: T
  /** The value as JSON, serialised once when stored: a route may send it as is. */
  json: string
  state: CacheState
  /** Milliseconds since the entry was stored (0 on MISS). */
  ageMs: number
}

export interface CachedFunction<A, T> {
  (args: A, options?: { deadlineMs?: number; signal?: AbortSignal }): Promise<CacheResult<T>>
  /** Drop the entry for these args on every replica. */
  invalidate(args: A): Promise<void>
  /**
   * Synchronously, the fresh L1 hit the call would answer at once, or undefined when the call has anything else to do
   * (ask Redis, fetch, serve stale, throw a cached NotFound). For answering hits without an await.
   */
  peek(args: A): CacheResult<T> | undefined
}

export interface CacheDefinition<A, T> extends CachePolicy<A, T> {
  /** Stable key of the arguments. Customer-scoped data must include the authenticated customer id. */
  key: (args: A) => string
  fetch: (args: A, context: FetchContext) => Promise<T>
}

export interface Cache {
  define<A, T>(name: string, definition: CacheDefinition<A, T>): CachedFunction<A, T>
  /** Drop every entry carrying any of these tags, on every replica (L1 within ~1 s, L2 at once). */
  invalidateTags(tags: readonly string[]): Promise<void>
}
