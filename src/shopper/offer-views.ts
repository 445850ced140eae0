import type { FastifyBaseLogger } from 'fastify'
import { LRUCache } from 'lru-cache'
import type { RedisClient } from '../infra/redis.ts'

/**
 * The offers a shopper was last shown for a subscription, per reason, kept for a day: a cancel with a reason after
 * that counts each offer shown for the reason as declined (an accept forgets them). Redis across replicas; this
 * replica's memory while Redis fails (a decline may then go uncounted, never a cancel refused).
 */
export type ShownOffers = Record<string, { id: string; kind: string; source: string }[]>

const SHOWN_TTL_MS = 24 * 3600_000

export class OfferViews {
  private readonly local = new LRUCache<string, ShownOffers>({ max: 50_000, ttl: SHOWN_TTL_MS })
  private readonly redis: RedisClient | null
  private readonly log: FastifyBaseLogger
  private readonly prefix: string

  constructor(options: { redis: RedisClient | null; log: FastifyBaseLogger; prefix: string }) {
    this.redis = options.redis
    this.log = options.log
    this.prefix = options.prefix
  }

  async shown(subscriptionId: string, offers: ShownOffers): Promise<void> {
    this.local.set(subscriptionId, offers)
    if (!this.redis) return
    try {
      await this.redis.set(this.key(subscriptionId), JSON.stringify(offers), {
        expiration: { type: 'PX', value: SHOWN_TTL_MS },
      })
    } catch (error) {
      this.degraded(error)
    }
  }

  /** What was shown (and forget it): null when nothing was shown within the day. */
  async take(subscriptionId: string): Promise<ShownOffers | null> {
    const local = this.local.get(subscriptionId) ?? null
    this.local.delete(subscriptionId)
    if (!this.redis) return local
    try {
      const json = await this.redis.getDel(this.key(subscriptionId))
      return json === null ? local : (JSON.parse(String(json)) as ShownOffers)
    } catch (error) {
      this.degraded(error)
      return local
    }
  }

  private key(subscriptionId: string): string {
    return `${this.prefix}{${subscriptionId}}`
  }

  private degraded(error: unknown): void {
    this.log.warn({ err: { message: (error as Error).message } }, 'offer views: Redis unavailable, using this replica')
  }
}
