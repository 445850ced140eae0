import type { FastifyBaseLogger } from 'fastify'
import { LRUCache } from 'lru-cache'
import { AppError } from '../errors.ts'
import type { RedisClient } from '../infra/redis.ts'

/**
 * A per-shopper budget of writes (a fixed one-minute window), so one shopper's script cannot spend the store's
 * Recharge budget (2 calls/s for every shopper together). Reads need none: they are served from the cache. Counted
 * in Redis across replicas; in this process while Redis is unavailable.
 */
export const DEFAULT_WRITES_PER_MINUTE = 30
const WINDOW_MS = 60_000

export class ShopperWriteLimit {
  private readonly redis: RedisClient | null
  private readonly log: FastifyBaseLogger
  private readonly limit: number
  private readonly prefix: string
  private readonly local = new LRUCache<string, number>({ max: 100_000, ttl: WINDOW_MS })

  constructor(options: { redis: RedisClient | null; log: FastifyBaseLogger; limit: number; prefix: string }) {
    this.redis = options.redis
    this.log = options.log
    this.limit = options.limit
    this.prefix = options.prefix
  }

  /** Counts one write for the customer; throws 429 RATE_LIMITED past the budget. */
  async take(customerId: string, now = Date.now()): Promise<void> {
    const window = Math.floor(now / WINDOW_MS)
    const key = `${this.prefix}{${customerId}}:${window}`
    const count = await this.increment(key)
    if (count > this.limit) {
      const retryAfter = Math.max(1, Math.ceil(((window + 1) * WINDOW_MS - now) / 1000))
      throw new AppError('RATE_LIMITED', {
        detail: `At most ${this.limit} changes a minute; try again in ${retryAfter} s.`,
        retryAfter,
      })
    }
  }

  private async increment(key: string): Promise<number> {
    if (this.redis) {
      try {
        const [count] = (await this.redis
          .multi()
          .incr(key)
          .pExpire(key, WINDOW_MS + 1_000)
          .exec()) as unknown as [number, unknown]
        return Number(count)
      } catch (error) {
        this.log.warn(
          { err: { message: (error as Error).message } },
          'write limit: Redis unavailable, counting locally',
        )
      }
    }
    const count = (this.local.get(key) ?? 0) + 1
    this.local.set(key, count)
    return count
  }
}
