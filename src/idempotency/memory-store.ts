import { randomUUID } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import {
  type BeginResult,
  type IdempotencyStore,
  type StoredEntry,
  type StoredResponse,
  toBeginResult,
} from './types.ts'

/**
 * In-process store for one replica (no REDIS_URL) and the fallback while Redis is unreachable. Bounded by entry
 * count and bytes so a flood of keys cannot exhaust memory; the oldest entries go first.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly entries: LRUCache<string, StoredEntry>

  constructor(options: { maxEntries?: number; maxBytes?: number } = {}) {
    this.entries = new LRUCache<string, StoredEntry>({
      max: options.maxEntries ?? 50_000,
      maxSize: options.maxBytes ?? 64 * 1024 * 1024,
      sizeCalculation: (entry) => (entry.state === 'done' ? entry.response.body.length + 256 : 256),
      ttlAutopurge: false,
    })
  }

  async begin(key: string, fingerprint: string, inFlightTtlMs: number): Promise<BeginResult> {
    const existing = this.entries.get(key)
    if (existing) return toBeginResult(existing, fingerprint)
    const owner = randomUUID()
    this.entries.set(key, { state: 'in-flight', fingerprint, owner }, { ttl: inFlightTtlMs })
    return { kind: 'started', owner }
  }

  async complete(
    key: string,
    owner: string,
    fingerprint: string,
    response: StoredResponse,
    ttlMs: number,
  ): Promise<void> {
    const existing = this.entries.get(key)
    if (existing?.state !== 'in-flight' || existing.owner !== owner) return
    this.entries.set(key, { state: 'done', fingerprint, response }, { ttl: ttlMs })
  }

  async release(key: string, owner: string): Promise<void> {
    const existing = this.entries.get(key)
    if (existing?.state === 'in-flight' && existing.owner === owner) this.entries.delete(key)
  }
}
