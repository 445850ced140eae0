import { createHash } from 'node:crypto'
import { FixedWindowCounter } from '../infra/fixed-window.ts'
import type { RedisClient } from '../plugins/redis.ts'

/**
 * A store for @fastify/rate-limit on node-redis (its bundled Redis store needs ioredis), counted by the shared
 * fixed-window counter (src/infra/fixed-window.ts): every replica counts against one window per route and client,
 * and while Redis cannot be used the count continues in this process, a little looser.
 */

type Callback = (error: Error | null, result: { current: number; ttl: number }) => void

interface RouteParams {
  routeInfo?: { url?: string; method?: string | string[] }
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
  const counter = new FixedWindowCounter({
    redis: options.redis,
    prefix: options.prefix,
    maxLocalIds: 20_000,
    ...(options.onDegraded ? { onDegraded: options.onDegraded } : {}),
  })

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
      counter.hit(`${this.namespace}:${key}`, timeWindow).then(
        ({ count, resetInMs }) => callback(null, { current: count, ttl: resetInMs }),
        (error: unknown) => callback(error as Error, { current: 0, ttl: 0 }),
      )
    }

    child(routeOptions: object): NodeRedisRateLimitStore {
      return new NodeRedisRateLimitStore(routeOptions)
    }
  }
}
