import type { FastifyBaseLogger } from 'fastify'
import type { RedisClient } from '../infra/redis.ts'
import type { WebhooksResource } from '../recharge/resources/webhooks.ts'
import type { WebhookMetrics } from './metrics.ts'
import { reconcileWebhooks } from './registration.ts'

/**
 * After a round skipped because the lock could not be taken (Redis unreachable), the next try comes this soon. The
 * usual cause is a replica's first round running while its Redis connection is still being made: registration
 * should not wait long for that.
 */
const LOCK_RETRY_MS = 5_000

export interface RegistrationState {
  /** ISO time of the last completed check, or null before the first. */
  checkedAt: string | null
  /** Needed topics still unregistered after the last check's repair. */
  missing: string[]
  /** Topics re-created by the last check, not counting the first (Recharge deletes a webhook after 20 failed deliveries). */
  repaired: string[]
  error: string | null
}

export interface WatchdogOptions {
  webhooks: WebhooksResource
  publicUrl: string
  intervalMs: number
  metrics: WebhookMetrics
  log: FastifyBaseLogger
  /** With Redis, one replica per interval does the check (lock) and shares the result with the others. */
  redis: RedisClient | null
  keyPrefix: string
}

/**
 * Keeps our webhooks registered: every interval, list Recharge's webhooks and re-create the missing ones. Recharge
 * deletes a webhook whose deliveries failed for 48 h (an outage, a wrong PUBLIC_URL); without this, caches would
 * silently stop being invalidated. The state feeds /readyz.
 */
export class RegistrationWatchdog {
  state: RegistrationState = { checkedAt: null, missing: [], repaired: [], error: null }
  private readonly options: WatchdogOptions
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private readonly abort = new AbortController()

  constructor(options: WatchdogOptions) {
    this.options = options
  }

  start(firstDelayMs = 1_000): void {
    const schedule = (delay: number) => {
      this.timer = setTimeout(() => {
        let next = this.options.intervalMs
        this.running = this.tick()
          .then((round) => {
            if (round === 'skipped') next = Math.min(this.options.intervalMs, LOCK_RETRY_MS)
          })
          .finally(() => {
            this.running = null
            if (!this.abort.signal.aborted) schedule(next)
          })
      }, delay)
      this.timer.unref()
    }
    schedule(firstDelayMs)
  }

  async stop(): Promise<void> {
    this.abort.abort()
    if (this.timer) clearTimeout(this.timer)
    await this.running
  }

  private get lockKey() {
    return `${this.options.keyPrefix}:watchdog:lock`
  }
  private get stateKey() {
    return `${this.options.keyPrefix}:watchdog:state`
  }

  /** One round: take the lock and check, adopt another replica's result, or skip when the lock cannot be taken. */
  private async tick(): Promise<'checked' | 'adopted' | 'skipped'> {
    const { redis } = this.options
    if (redis) {
      // Held at least a minute: longer than a check takes (35 creates on the background lane), so two replicas never
      // check at once even when the interval is short.
      const lockMs = Math.max(60_000, Math.floor(this.options.intervalMs * 0.9))
      let won: string | null
      try {
        won = await redis.set(this.lockKey, '1', { NX: true, expiration: { type: 'PX', value: lockMs } })
      } catch (error) {
        // No answer is not a won lock: the SET may have reached Redis (a late reply) or another replica may hold the
        // lock, and checking anyway registers every missing topic twice. Skip the round and try again soon.
        const message = error instanceof Error ? error.message : String(error)
        this.state = { ...this.state, error: `registration lock unavailable: ${message}` }
        this.options.log.warn({ err: error }, 'webhook registration check skipped: the lock could not be taken')
        return 'skipped'
      }
      if (won !== 'OK') {
        // Another replica checks this round; adopt its result.
        const shared = await redis.get(this.stateKey).catch(() => null)
        if (shared) this.state = JSON.parse(shared) as RegistrationState
        return 'adopted'
      }
    }
    await this.check()
    if (redis) {
      await redis
        .set(this.stateKey, JSON.stringify(this.state), {
          expiration: { type: 'PX', value: this.options.intervalMs * 3 },
        })
        .catch(() => {})
    }
    return 'checked'
  }

  /** One check and repair, now. */
  async check(): Promise<RegistrationState> {
    try {
      const result = await reconcileWebhooks(this.options.webhooks, this.options.publicUrl, {
        signal: this.abort.signal,
      })
      const missing = result.failed.map((failure) => failure.topic)
      const first = this.state.checkedAt === null
      if (result.created.length > 0 && first) {
        this.options.log.info({ topics: result.created }, 'webhooks registered at Recharge')
      } else if (result.created.length > 0) {
        // Recharge deleted them (48 h of failed deliveries) or someone else did: worth a look.
        this.options.log.warn({ topics: result.created }, 'webhooks were missing at Recharge and were re-registered')
      }
      // `repaired` names what a later check had to put back; the first registration is not a repair.
      const repaired = first ? [] : result.created
      this.state = { checkedAt: new Date().toISOString(), missing, repaired, error: null }
      if (missing.length > 0) {
        this.options.log.error({ failed: result.failed }, 'webhooks could not be registered')
      }
      this.options.metrics.registered.set(missing.length)
    } catch (error) {
      this.state = {
        ...this.state,
        checkedAt: new Date().toISOString(),
        error: error instanceof Error ? error.message : String(error),
      }
      this.options.log.warn({ err: error }, 'webhook registration check failed')
    }
    return this.state
  }
}
