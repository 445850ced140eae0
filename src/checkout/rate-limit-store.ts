import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { RedisClient } from '../infra/redis.ts'

/**
 * A store for @fastify/rate-limit on node-redis (its bundled Redis store needs ioredis). Fixed window per key: one
 * script does INCR and sets the expiry on the first hit, so every replica counts against one window.
 *
 * When Redis is absent, or a command fails or exceeds its 50 ms deadline, the count falls back to an in-process
 * window (per replica): limiting continues, a little looser, and no request waits on Redis.
 */

type Callback = (error: Error | null, result: { current: number; ttl: number }) => void

interface RouteParams {
  routeInfo?: { url?: string; method?: string | string[] }
}

const incrementScript = `
local current = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}
`

class LocalWindow {
  private readonly windows = new LRUCache<string, { count: number; resetAt: number }>({ max: 20_000 })

  incr(key: string, timeWindow: number, now = Date.now()): { current: number; ttl: number } {
    const window = this.windows.get(key)
    if (!window || window.resetAt <= now) {
      this.windows.set(key, { count: 1, resetAt: now + timeWindow })
      return { current: 1, ttl: timeWindow }
    }
    window.count += 1
    return { current: window.count, ttl: window.resetAt - now }
  }
}

export interface RateLimitStoreOptions {
  redis: RedisClient | null
  /** Key prefix, e.g. `rb:rl:checkout:`. */
  prefix: string
  /** Told once per failure streak that Redis could not be used. */
  onDegraded?: (error: unknown) => void
}

/** The store class @fastify/rate-limit instantiates (`new Store(params)`), bound to a client and a prefix. */
export function nodeRedisRateLimitStore(options: RateLimitStoreOptions) {
  const local = new LocalWindow()
  let degraded = false

  return class NodeRedisRateLimitStore {
    readonly namespace: string

    // @fastify/rate-limit passes its merged route parameters (typed as route options; `routeInfo` is what it sets).
    constructor(options: object = {}) {
      const params = options as RouteParams
      const route = params.routeInfo?.url
        ? `${String(params.routeInfo.method ?? '')} ${params.routeInfo.url}`
        : 'global'
      // Short and stable per route; route templates never contain ids.
      this.namespace = createHash('sha256').update(route).digest('base64url').slice(0, 10)
    }

    incr(key: string, callback: Callback, timeWindow: number): void {
      const redisKey = `${options.prefix}${this.namespace}:${key}`
      const client = options.redis
      if (!client?.isReady) {
        callback(null, local.incr(redisKey, timeWindow))
        return
      }
      client
        .eval(incrementScript, { keys: [redisKey], arguments: [String(timeWindow)] })
        .then((reply) => {
          degraded = false
          const [current, ttl] = reply as [number, number]
          callback(null, { current: Number(current), ttl: Math.max(0, Number(ttl)) })
        })
        .catch((error: unknown) => {
          if (!degraded) {
            degraded = true
            options.onDegraded?.(error)
          }
          callback(null, local.incr(redisKey, timeWindow))
        })
    }

    child(routeOptions: object): NodeRedisRateLimitStore {
      return new NodeRedisRateLimitStore(routeOptions)
    }
  }
}
