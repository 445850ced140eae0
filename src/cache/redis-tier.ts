import { createHash } from 'node:crypto'
import { withDeadline } from '../infra/deadline.ts'
import type { RedisClient } from '../infra/redis.ts'
import type { CircuitBreaker } from './breaker.ts'
import { decodeEnvelope, type Entry, encodeEnvelope } from './entry.ts'
import type { KeySpace } from './keys.ts'

/** Returned instead of a value whenever Redis was skipped (breaker open, not connected) or failed. */
export const UNAVAILABLE = Symbol('redis unavailable')
export type Unavailable = typeof UNAVAILABLE

export type LeaseOutcome = 'acquired' | 'held' | Unavailable

/** What a follower sees while another replica holds the lease. */
export interface FillProbe {
  entry: Entry | undefined
  /** The lease value: a holder id, a marker (`!notfound`, `!failed`) left by a holder whose fetch did not store, or null. */
  lease: string | null
}

const NOT_CONNECTED = new Error('not connected')

export const LEASE_MARKER_NOT_FOUND = '!notfound'
export const LEASE_MARKER_FAILED = '!failed'

/** Release the lease only if we still hold it; optionally leave a short outcome marker in its place. */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then return redis.call('DEL', KEYS[1]) end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`

/** Index an entry key under a tag (scored by its expiry), trim expired members, keep the index alive long enough. */
const INDEX_SCRIPT = `
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return 1`

export interface RedisTierOptions {
  client: RedisClient
  keys: KeySpace
  breaker: CircuitBreaker
  /** Called with the operation name on every failure (metrics, rate-limited logs). Never with a key. */
  onError: (operation: string, error: unknown) => void
  /**
   * Our own deadline per call, in ms, tighter than the shared client's 300 ms: a cache lookup would rather go to L1's
   * stale entry or the origin than wait. Default 100 (above event-loop stalls under load; the breaker cuts repeated
   * waits).
   */
  callTimeoutMs?: number
}

class RedisCallTimeout extends Error {
  constructor(ms: number) {
    super(`redis call exceeded ${ms} ms`)
    this.name = 'RedisCallTimeout'
  }
}

/**
 * L2: envelopes, leases and tag indexes in Redis. Every call is isolated: it goes through the breaker, has its own
 * deadline and turns any failure into UNAVAILABLE. Nothing here ever throws at a caller
 * except `invalidate`, whose caller must know whether the shared cache was purged.
 */
export class RedisTier {
  private readonly client: RedisClient
  private readonly keys: KeySpace
  private readonly breaker: CircuitBreaker
  private readonly onError: (operation: string, error: unknown) => void
  private readonly callTimeoutMs: number

  constructor(options: RedisTierOptions) {
    this.client = options.client
    this.callTimeoutMs = options.callTimeoutMs ?? 100
    this.keys = options.keys
    this.breaker = options.breaker
    this.onError = options.onError
  }

  /** True when a call would be attempted now (connected and breaker not open). Does not consume a probe. */
  get usable(): boolean {
    return this.client.isReady && this.breaker.state !== 'open'
  }

  async get(key: string): Promise<Entry | undefined | Unavailable> {
    const text = await this.run('get', () => this.client.get(key))
    if (text === UNAVAILABLE) return UNAVAILABLE
    return typeof text === 'string' ? decodeEnvelope(text) : undefined
  }

  /**
   * Index under each tag first, then write the entry: an invalidation that can see the entry can also see it in the
   * index (the reverse order leaves a window where a purge finds nothing and the entry survives).
   */
  async set(key: string, entry: Entry, now: number): Promise<boolean> {
    const ttl = Math.ceil(entry.staleUntil - now)
    if (ttl <= 0) return false
    // One call per tag (each tag index is in its own slot), pipelined by the client.
    const indexed = await Promise.all(
      entry.tags.map((tag) =>
        this.run('index', () =>
          this.script(
            INDEX_SCRIPT,
            [this.keys.tag(tag)],
            [String(entry.staleUntil), key, String(now), String(ttl + 60_000)],
          ),
        ),
      ),
    )
    if (indexed.includes(UNAVAILABLE)) return false
    const written = await this.run('set', () =>
      this.client.set(key, encodeEnvelope(entry), { expiration: { type: 'PX', value: ttl } }),
    )
    return written !== UNAVAILABLE
  }

  async tryLease(leaseKey: string, owner: string, ttlMs: number): Promise<LeaseOutcome> {
    const result = await this.run('lease', () =>
      this.client.set(leaseKey, owner, { condition: 'NX', expiration: { type: 'PX', value: Math.ceil(ttlMs) } }),
    )
    if (result === UNAVAILABLE) return UNAVAILABLE
    return result === 'OK' ? 'acquired' : 'held'
  }

  /** A follower's look at both the entry and the lease (same slot: pipelined in one round trip). */
  async probe(key: string, leaseKey: string): Promise<FillProbe | Unavailable> {
    const result = await this.run('probe', () => Promise.all([this.client.get(key), this.client.get(leaseKey)]))
    if (result === UNAVAILABLE) return UNAVAILABLE
    const [text, lease] = result
    return { entry: typeof text === 'string' ? decodeEnvelope(text) : undefined, lease: lease ?? null }
  }

  /** Drop our lease; with a marker, leave it for `markerMs` so followers learn the outcome instead of re-fetching. */
  async releaseLease(leaseKey: string, owner: string, marker?: { value: string; ttlMs: number }): Promise<void> {
    await this.run('release', () =>
      this.script(RELEASE_SCRIPT, [leaseKey], [owner, marker?.value ?? '', String(Math.ceil(marker?.ttlMs ?? 0))]),
    )
  }

  async delete(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return
    const result = await this.run('delete', () => Promise.all(keys.map((key) => this.client.del(key))))
    if (result === UNAVAILABLE) throw new Error('redis unavailable')
  }

  /**
   * Delete every entry indexed under these tags and the indexes themselves; returns the entry keys. Throws when
   * Redis cannot be reached: the caller must know the shared tier was not purged.
   */
  async invalidateTags(tags: readonly string[]): Promise<string[]> {
    const members = await this.run('invalidate', () =>
      Promise.all(tags.map((tag) => this.client.zRange(this.keys.tag(tag), 0, -1))),
    )
    if (members === UNAVAILABLE) throw new Error('redis unavailable')
    const keys = [...new Set(members.flat())]
    const deleted = await this.run('invalidate', () =>
      Promise.all([
        ...keys.map((key) => this.client.del(key)),
        ...tags.map((tag) => this.client.del(this.keys.tag(tag))),
      ]),
    )
    if (deleted === UNAVAILABLE) throw new Error('redis unavailable')
    return keys
  }

  async publish(message: string): Promise<boolean> {
    const result = await this.run('publish', () => this.client.publish(this.keys.channel, message))
    return result !== UNAVAILABLE
  }

  private async run<T>(operation: string, call: () => Promise<T>): Promise<T | Unavailable> {
    if (!this.breaker.allow()) return UNAVAILABLE
    if (!this.client.isReady) {
      // Disconnected: node-redis would reject at once (no offline queue); count it so the breaker opens.
      this.breaker.failure()
      this.onError(operation, NOT_CONNECTED)
      return UNAVAILABLE
    }
    try {
      const result = await withDeadline(call(), this.callTimeoutMs, () => new RedisCallTimeout(this.callTimeoutMs))
      this.breaker.success()
      return result
    } catch (error) {
      this.breaker.failure()
      this.onError(operation, error)
      return UNAVAILABLE
    }
  }

  /** EVALSHA with a one-time EVAL fallback when the server does not know the script yet. */
  private async script(source: string, keys: string[], args: string[]): Promise<unknown> {
    const sha = scriptSha(source)
    try {
      return await this.client.evalSha(sha, { keys, arguments: args })
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return await this.client.eval(source, { keys, arguments: args })
    }
  }
}

const shas = new Map<string, string>()
function scriptSha(source: string): string {
  let sha = shas.get(source)
  if (!sha) {
    sha = createHash('sha1').update(source).digest('hex')
    shas.set(source, sha)
  }
  return sha
}
