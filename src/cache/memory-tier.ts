import { LRUCache } from 'lru-cache'
import type { Entry } from './entry.ts'

/** An L1 record: the entry plus when this replica must re-check L2 before trusting it as fresh. */
export interface LocalEntry extends Entry {
  /** The L1 epoch it was stored in: bumped when this replica may have missed invalidations (subscriber reconnect). */
  readonly epoch: number
  /** After this, a HIT first asks L2 (another replica may have refreshed or dropped it). */
  readonly checkAt: number
  /** The parsed value shared by hits of definitions with `shareValue` (filled on first use). */
  readonly memo: ValueMemo
}

export interface ValueMemo {
  parsed: boolean
  value: unknown
}

export interface MemoryTierOptions {
  /** Bound of the whole tier, in bytes of stored JSON (plus a fixed overhead per entry). */
  maxBytes: number
}

/** Book-keeping bytes per entry on top of its JSON (object, key, tag index). */
const ENTRY_OVERHEAD_BYTES = 256

/**
 * L1: one bounded LRU per replica holding pre-serialised JSON, plus a tag → keys index so tag invalidation drops
 * local entries without asking Redis (and works with no Redis at all).
 */
export class MemoryTier {
  private readonly lru: LRUCache<string, LocalEntry>
  private readonly keysByTag = new Map<string, Set<string>>()

  constructor(options: MemoryTierOptions) {
    this.lru = new LRUCache<string, LocalEntry>({
      maxSize: options.maxBytes,
      sizeCalculation: (entry, key) => entry.json.length * 2 + key.length * 2 + ENTRY_OVERHEAD_BYTES,
      dispose: (entry, key) => this.unindex(key, entry),
    })
  }

  get(key: string): LocalEntry | undefined {
    return this.lru.get(key)
  }

  /**
   * Stores the entry. Expiry is not the LRU's job (no clock read per get): readers compare the entry's own times,
   * and an entry past staleUntil is dropped when met (`get`) or evicted by size.
   */
  set(key: string, entry: LocalEntry, now: number): void {
    if (entry.staleUntil <= now) {
      this.lru.delete(key)
      return
    }
    this.lru.set(key, entry)
    for (const tag of entry.tags) {
      let keys = this.keysByTag.get(tag)
      if (!keys) {
        keys = new Set()
        this.keysByTag.set(tag, keys)
      }
      keys.add(key)
    }
  }

  delete(key: string): boolean {
    return this.lru.delete(key)
  }

  /** Drops every entry carrying one of the tags; returns the keys dropped. */
  deleteTagged(tags: readonly string[]): string[] {
    const dropped: string[] = []
    for (const tag of tags) {
      const keys = this.keysByTag.get(tag)
      if (!keys) continue
      for (const key of [...keys]) if (this.lru.delete(key)) dropped.push(key)
      this.keysByTag.delete(tag)
    }
    return dropped
  }

  clear(): void {
    this.lru.clear()
    this.keysByTag.clear()
  }

  get bytes(): number {
    return this.lru.calculatedSize
  }

  get size(): number {
    return this.lru.size
  }

  private unindex(key: string, entry: LocalEntry): void {
    for (const tag of entry.tags) {
      const keys = this.keysByTag.get(tag)
      if (!keys) continue
      keys.delete(key)
      if (keys.size === 0) this.keysByTag.delete(tag)
    }
  }
}
