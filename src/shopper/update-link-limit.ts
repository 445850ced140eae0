import type { FastifyBaseLogger } from 'fastify'
import { AppError } from '../errors.ts'
import { FixedWindowCounter } from '../infra/fixed-window.ts'
import type { RedisClient } from '../infra/redis.ts'

/**
 * One "update your payment information" email per shopper per window (default 10 minutes), counted in Redis so every
 * replica shares the window (in this process while Redis is unavailable). The email goes to the shopper's inbox from
 * Recharge: without a limit a script, or an impatient double-click, could send dozens.
 */
export const DEFAULT_UPDATE_LINK_INTERVAL_MS = 10 * 60_000

export class UpdateLinkLimit {
  readonly intervalMs: number
  private readonly counter: FixedWindowCounter

  constructor(options: { redis: RedisClient | null; log: FastifyBaseLogger; prefix: string; intervalMs?: number }) {
    this.intervalMs = options.intervalMs ?? DEFAULT_UPDATE_LINK_INTERVAL_MS
    this.counter = new FixedWindowCounter({
      redis: options.redis,
      prefix: options.prefix,
      onDegraded: (error) =>
        options.log.warn(
          { err: { message: (error as Error).message } },
          'update-link limit: Redis unavailable, counting locally',
        ),
    })
  }

  /** Takes the shopper's one email of the window, answering when the next may be asked; 429 when it is taken. */
  async take(customerId: string, now = Date.now()): Promise<{ nextAt: Date }> {
    const { count, resetInMs } = await this.counter.hit(customerId, this.intervalMs, now)
    if (count > 1) {
      const retryAfter = Math.max(1, Math.ceil(resetInMs / 1000))
      throw new AppError('RATE_LIMITED', {
        detail: `An update link was sent recently; you can ask for another in ${Math.ceil(retryAfter / 60)} min.`,
        retryAfter,
      })
    }
    return { nextAt: new Date(now + resetInMs) }
  }

  /** The email was definitely not sent (Recharge refused it, or it never left): the shopper may ask again at once. */
  release(customerId: string): Promise<void> {
    return this.counter.forget(customerId)
  }
}
