import { randomUUID } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import {
  type BeginResult,
  ClaimLostError,
  type IdempotencyStore,
  type IdempotencyTimings,
  type StoredEntry,
  type StoredResponse,
  toBeginResult,
} from './types.ts'

interface Held {
  entry: StoredEntry
  /** When the entry was last written (a dispatched entry's dispatch time). */
  at: number
}

/**
 * In-process store for one replica (no REDIS_URL). Bounded by entry count and bytes so a flood of keys cannot exhaust
 * memory; the oldest entries go first.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly entries: LRUCache<string, Held>
  private readonly timings: IdempotencyTimings
  private readonly now: () => number

  constructor(
    timings: IdempotencyTimings,
    options: { maxEntries?: number; maxBytes?: number; now?: () => number } = {},
  ) {
    this.timings = timings
    this.now = options.now ?? Date.now
    this.entries = new LRUCache<string, Held>({
      max: options.maxEntries ?? 50_000,
      maxSize: options.maxBytes ?? 64 * 1024 * 1024,
      sizeCalculation: (held) => (held.entry.state === 'done' ? held.entry.response.body.length + 256 : 256),
      ttlAutopurge: false,
      perf: { now: () => this.now() },
    })
  }

  async begin(key: string, fingerprint: string): Promise<BeginResult> {
    const existing = this.entries.get(key)
    if (existing) return toBeginResult(existing.entry, fingerprint, this.now() - existing.at, this.timings)
    const owner = randomUUID()
    this.set(key, { state: 'reserved', fingerprint, owner }, this.timings.reserveTtlMs)
    return { kind: 'started', owner }
  }

  async dispatch(key: string, owner: string, fingerprint: string): Promise<void> {
    if (!this.holds(key, owner)) throw new ClaimLostError()
    this.set(key, { state: 'dispatched', fingerprint, owner }, this.timings.answerTtlMs)
  }

  async complete(key: string, owner: string, fingerprint: string, response: StoredResponse): Promise<void> {
    if (this.holds(key, owner)) this.set(key, { state: 'done', fingerprint, response }, this.timings.answerTtlMs)
  }

  async release(key: string, owner: string): Promise<void> {
    if (this.holds(key, owner)) this.entries.delete(key)
  }

  /** What the key holds, without claiming it. */
  peek(key: string): Held | undefined {
    return this.entries.get(key)
  }

  /** Write an entry as is (a replica's memory of what it dispatched and answered). */
  set(key: string, entry: StoredEntry, ttlMs: number): void {
    this.entries.set(key, { entry, at: this.now() }, { ttl: ttlMs })
  }

  delete(key: string): void {
    this.entries.delete(key)
  }

  private holds(key: string, owner: string): boolean {
    const entry = this.entries.get(key)?.entry
    return entry !== undefined && entry.state !== 'done' && entry.owner === owner
  }
}
