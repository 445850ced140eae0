import fp from 'fastify-plugin'
import { TwoTierCache } from '../cache/cache.ts'
import { createCacheMetrics } from '../cache/metrics.ts'
import type { Cache } from '../cache/types.ts'
import { closeRedisClient, type RedisClient } from '../infra/redis.ts'
import { type BackgroundConnection, connectInBackground, onReconnected } from '../infra/redis-topology.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** The two-tier read cache (src/cache). */
    cache: Cache
  }
}

export interface CachePluginOptions {
  /** Key prefix in Redis (default `rb:c:v1`). */
  keyPrefix?: string
  /** L1 bound in bytes; 0 disables L1. Default: config CACHE_L1_MAX_BYTES, else 64 MiB. */
  l1MaxBytes?: number
}

/**
 * Decorates `app.cache`. With `app.redis`: L2 in Redis plus a dedicated subscriber connection (a duplicate of the
 * shared client) for the invalidation channel. Without: in-process only. Closes only the subscriber it opened.
 */
export default fp<CachePluginOptions>(
  async function cachePlugin(app, options) {
    const redis: RedisClient | null = app.redis
    const configured = app.config?.CACHE_L1_MAX_BYTES
    const cache = new TwoTierCache({
      redis,
      metrics: createCacheMetrics(app.metrics),
      log: app.log.child({ component: 'cache' }),
      ...(options.keyPrefix !== undefined ? { keyPrefix: options.keyPrefix } : {}),
      ...((options.l1MaxBytes ?? configured) !== undefined ? { l1MaxBytes: options.l1MaxBytes ?? configured } : {}),
    })
    app.decorate('cache', cache as Cache)

    let subscriber: RedisClient | null = null
    let connecting: BackgroundConnection | null = null
    if (redis !== null) {
      // Pub/sub needs its own connection; it has no per-command timeout (it only waits for messages).
      subscriber = redis.duplicate({ commandOptions: {} }) as RedisClient
      const sub = subscriber
      let lastLogged = 0
      sub.on('error', (error: Error) => {
        const now = Date.now()
        if (now - lastLogged > 5_000) {
          lastLogged = now
          app.log.warn({ err: { message: error.message } }, 'cache subscriber: Redis connection error')
        }
      })
      // After a reconnect, messages sent while we were away are lost: L1 re-checks L2 before trusting itself.
      onReconnected(sub, () => cache.onResubscribed())
      // Never blocks start-up: when Redis is down the subscriber connects (and subscribes) once it is back.
      connecting = connectInBackground(sub, (error: unknown) => {
        app.log.warn({ err: { message: (error as Error).message } }, 'cache subscriber could not connect')
      })
      void connecting.connected
        .then(() => {
          if (!sub.isOpen) return
          // Plain SUBSCRIBE on a cluster too, not sharded SSUBSCRIBE: node-redis 6.3 moves sharded subscriptions after
          // a topology change with a promise nobody awaits, which crashed the process (an unhandled rejection) when
          // the slot map was empty for a moment. A plain PUBLISH reaches every node over the cluster bus, which costs
          // little at the rate of invalidations, and its subscriber is moved inside the client's own error handling.
          return sub.subscribe(cache.keys.channel, (message) => cache.onInvalidationMessage(message))
        })
        .catch((error: unknown) => {
          app.log.warn({ err: { message: (error as Error).message } }, 'cache subscriber could not subscribe')
        })
    }

    app.addHook('onClose', async () => {
      connecting?.stop()
      await cache.close()
      if (subscriber !== null) await closeRedisClient(subscriber)
    })
  },
  { name: 'cache', dependencies: ['redis', 'metrics'] },
)
