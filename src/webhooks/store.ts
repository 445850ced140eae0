import { LRUCache } from 'lru-cache'
import type { RedisClient } from '../infra/redis.ts'
import type { RecordRef } from './event.ts'

/**
 * Processing state shared by every replica: which deliveries were already handled (Recharge redelivers and sends
 * duplicates, with no delivery id) and the newest `updated_at` seen per record (deliveries arrive out of order).
 */
export interface EventStore {
  /**
   * Take the delivery with this content hash for job `jobId`. 'duplicate' when it was already processed or another
   * job holds it (that job is pending and will finish it). The same job may take it again (a retry after a crash).
   */
  claim(hash: string, jobId: string, ttlMs?: number): Promise<'claimed' | 'duplicate'>
  /** Mark the delivery processed for `ttlMs` (default DEDUPE_TTL_MS). */
  complete(hash: string, ttlMs?: number): Promise<void>
  /** Let go of a claim (the job was dead-lettered), so a later redelivery is processed. */
  release(hash: string, jobId: string): Promise<void>
  /** Record this version; 'stale' when a newer `updated_at` of the same record was seen already. */
  observe(ref: RecordRef): Promise<'fresh' | 'stale'>
}

/**
 * How long a processed delivery stays a duplicate. Recharge retries for 48 h, and a v1 signature is accepted while its
 * timestamp is within 48 h of now either way, so one signed body can arrive up to 96 h after its first delivery; a
 * legacy-signed body is accepted while its record's `updated_at` is within LEGACY_MAX_AGE_MS (src/webhooks/intake.ts).
 * Seven days outlasts both, so every replay that still verifies is a duplicate.
 */
export const DEDUPE_TTL_MS = 7 * 24 * 60 * 60 * 1000
/** Out-of-order deliveries come minutes apart, retries up to 48 h; keep versions a little longer. */
export const VERSION_TTL_MS = 7 * 24 * 60 * 60 * 1000

const CLAIM_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if not current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if current == ARGV[1] then return 1 end
return 0`

const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`

const OBSERVE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current and tonumber(current) > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`

export class RedisEventStore implements EventStore {
  private redis: RedisClient
  private readonly prefix: string

  constructor(redis: RedisClient, prefix: string) {
    this.redis = redis
    this.prefix = prefix
  }

  /** Move to another connection (the consumers' own, so processing never queues ahead of intake appends). */
  useClient(redis: RedisClient): void {
    this.redis = redis
  }

  async claim(hash: string, jobId: string, ttlMs = DEDUPE_TTL_MS): Promise<'claimed' | 'duplicate'> {
    const result = await this.redis.eval(CLAIM_SCRIPT, {
      keys: [`${this.prefix}:seen:${hash}`],
      arguments: [`job:${jobId}`, String(ttlMs)],
    })
    return Number(result) === 1 ? 'claimed' : 'duplicate'
  }

  async complete(hash: string, ttlMs = DEDUPE_TTL_MS): Promise<void> {
    await this.redis.set(`${this.prefix}:seen:${hash}`, 'done', { expiration: { type: 'PX', value: ttlMs } })
  }

  async release(hash: string, jobId: string): Promise<void> {
    await this.redis.eval(RELEASE_SCRIPT, { keys: [`${this.prefix}:seen:${hash}`], arguments: [`job:${jobId}`] })
  }

  async observe(ref: RecordRef): Promise<'fresh' | 'stale'> {
    if (ref.updatedAt === null) return 'fresh'
    const result = await this.redis.eval(OBSERVE_SCRIPT, {
      keys: [`${this.prefix}:version:${ref.resource}:${ref.id}`],
      arguments: [String(ref.updatedAt), String(VERSION_TTL_MS)],
    })
    return Number(result) === 1 ? 'fresh' : 'stale'
  }
}

/** One replica without Redis: the same rules in bounded in-process maps. */
export class MemoryEventStore implements EventStore {
  private readonly seen = new LRUCache<string, string>({ max: 100_000, ttl: DEDUPE_TTL_MS })
  private readonly versions = new LRUCache<string, number>({ max: 100_000, ttl: VERSION_TTL_MS })

  async claim(hash: string, jobId: string, ttlMs = DEDUPE_TTL_MS): Promise<'claimed' | 'duplicate'> {
    const current = this.seen.get(hash)
    if (current === undefined || current === `job:${jobId}`) {
      this.seen.set(hash, `job:${jobId}`, { ttl: ttlMs })
      return 'claimed'
    }
    return 'duplicate'
  }

  async complete(hash: string, ttlMs = DEDUPE_TTL_MS): Promise<void> {
    this.seen.set(hash, 'done', { ttl: ttlMs })
  }

  async release(hash: string, jobId: string): Promise<void> {
    if (this.seen.get(hash) === `job:${jobId}`) this.seen.delete(hash)
  }

  async observe(ref: RecordRef): Promise<'fresh' | 'stale'> {
    if (ref.updatedAt === null) return 'fresh'
    const key = `${ref.resource}:${ref.id}`
    const current = this.versions.get(key)
    if (current !== undefined && current > ref.updatedAt) return 'stale'
    this.versions.set(key, ref.updatedAt)
    return 'fresh'
  }
}
