import { LRUCache } from 'lru-cache'
import type { RedisClient } from './redis.ts'

/**
 * A fixed-window counter shared by every replica: the first hit of an id opens a window of `windowMs`, and every hit
 * until it closes adds one. One script does INCR and sets the expiry on the first hit, so two replicas count against
 * one window and a crash between the two steps cannot leave a counter that never expires.
 *
 * Keys are `<prefix>{<id>}`: the hash tag keeps each id on one Redis Cluster slot.
 *
 * When Redis is absent, not connected, or a command fails or misses its deadline, the count falls back to a window in
 * this process (per replica): limiting continues, a little looser, and nothing waits on Redis. `onDegraded` is told
 * once per failure streak, not on every hit.
 */
export interface WindowCount {
  /** Hits in the current window, this one included. */
  count: number
  /** Milliseconds until the window closes. */
  resetInMs: number
}

export interface FixedWindowOptions {
  redis: RedisClient | null
  /** Key prefix, e.g. `rb:rl:checkout:`; must not contain `{`. */
  prefix: string
  onDegraded?: (error: unknown) => void
  /** Ids remembered by the in-process fallback (the oldest are forgotten first). */
  maxLocalIds?: number
}

const incrementScript = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`

export class FixedWindowCounter {
  private readonly options: FixedWindowOptions
  private readonly local: LRUCache<string, { count: number; resetAt: number }>
  private degraded = false

  constructor(options: FixedWindowOptions) {
    this.options = options
    this.local = new LRUCache({ max: options.maxLocalIds ?? 100_000 })
  }

  /** The Redis key of `id` (tests and operators read it). */
  keyOf(id: string): string {
    return `${this.options.prefix}{${id}}`
  }

  async hit(id: string, windowMs: number, now = Date.now()): Promise<WindowCount> {
    const key = this.keyOf(id)
    const client = this.options.redis
    if (client === null) return this.hitLocal(key, windowMs, now)
    try {
      if (!client.isReady) throw new Error('redis is not connected')
      const reply = (await client.eval(incrementScript, { keys: [key], arguments: [String(windowMs)] })) as [
        number,
        number,
      ]
      this.degraded = false
      return { count: Number(reply[0]), resetInMs: Math.max(0, Number(reply[1])) }
    } catch (error) {
      if (!this.degraded) {
        this.degraded = true
        this.options.onDegraded?.(error)
      }
      return this.hitLocal(key, windowMs, now)
    }
  }

  /**
   * Drop `id`'s window, for a hit that turned out not to count (the action it admitted definitely did not happen).
   * Best effort: a failure leaves the window to expire on its own.
   */
  async forget(id: string): Promise<void> {
    const key = this.keyOf(id)
    this.local.delete(key)
    const client = this.options.redis
    if (client === null || !client.isReady) return
    try {
      await client.del(key)
    } catch (error) {
      this.options.onDegraded?.(error)
    }
  }

  private hitLocal(key: string, windowMs: number, now: number): WindowCount {
    const window = this.local.get(key)
    if (!window || window.resetAt <= now) {
      this.local.set(key, { count: 1, resetAt: now + windowMs })
      return { count: 1, resetInMs: windowMs }
    }
    window.count += 1
    return { count: window.count, resetInMs: window.resetAt - now }
  }
}
