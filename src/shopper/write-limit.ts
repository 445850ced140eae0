import type { FastifyBaseLogger } from 'fastify'
import { AppError } from '../errors.ts'
import { FixedWindowCounter } from '../infra/fixed-window.ts'
import type { RedisClient } from '../plugins/redis.ts'

/**
 * A per-shopper budget of writes (a fixed one-minute window), so one shopper's script cannot spend the store's
 * Recharge budget (2 calls/s for every shopper together). Reads need none: they are served from the cache. Counted
 * in Redis across replicas; in this process while Redis is unavailable.
 */
export const DEFAULT_WRITES_PER_MINUTE = 30
const WINDOW_MS = 60_000

export class ShopperWriteLimit {
  private readonly limit: number
  private readonly counter: FixedWindowCounter

  constructor(options: { redis: RedisClient | null; log: FastifyBaseLogger; limit: number; prefix: string }) {
    this.limit = options.limit
    this.counter = new FixedWindowCounter({
      redis: options.redis,
      prefix: options.prefix,
      onDegraded: (error) =>
        options.log.warn(
          { err: { message: (error as Error).message } },
          'write limit: Redis unavailable, counting locally',
        ),
    })
  }

  /** Counts one write for the customer; throws 429 RATE_LIMITED past the budget. */
  async take(customerId: string, now = Date.now()): Promise<void> {
    const { count, resetInMs } = await this.counter.hit(customerId, WINDOW_MS, now)
    if (count > this.limit) {
      const retryAfter = Math.max(1, Math.ceil(resetInMs / 1000))
      throw new AppError('RATE_LIMITED', {
        detail: `At most ${this.limit} changes a minute; try again in ${retryAfter} s.`,
        retryAfter,
      })
    }
  }
}
