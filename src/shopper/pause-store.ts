import type { FastifyBaseLogger } from 'fastify'
import { LRUCache } from 'lru-cache'
import type { RedisClient } from '../infra/redis.ts'
import type { Subscription } from '../recharge/schemas/subscriptions.ts'

/**
 * Which subscriptions are paused, and until when. Recharge 2021-11 has no paused status: a pause is a
 * `set_next_charge_date` with the `pause` flag, after which the subscription is `active` with a later next charge
 * date, and a `subscription/paused` webhook follows. So the bridge remembers the pauses it made and the ones the
 * webhook reports (a pause made in the hosted portal or by the merchant), one Redis hash per customer.
 *
 * A record only says "paused" while Recharge still agrees: the subscription is active and its next charge date is
 * still the pause's end (see `pausedUntil`). A date moved since (a reschedule, a resume elsewhere, a charge billed)
 * ends the pause without anyone having to delete the record, so a lost delete or webhook never shows a stale pause.
 * While Redis fails, this replica's memory answers (a pause then shows on the replica that made or heard it).
 */
export interface PauseRecord {
  /** YYYY-MM-DD: the next charge date the pause set (the day it ends). */
  resumes_on: string
  /** YYYY-MM-DD: the next charge date before the pause (where a resume goes back to), when known. */
  resume_to: string | null
}

export interface PauseStore {
  forCustomer(customerId: string): Promise<ReadonlyMap<string, PauseRecord>>
  set(customerId: string, subscriptionId: string, record: PauseRecord): Promise<void>
  clear(customerId: string, subscriptionId: string): Promise<void>
}

/** Longer than the longest pause a policy allows (365 days), so a record outlives its pause. */
const RECORD_TTL_MS = 400 * 24 * 3600_000

/** The pause's end when `record` still describes the subscription; null when it is not paused (now). */
export function pausedUntil(record: PauseRecord | undefined, subscription: Subscription, today: string): string | null {
  if (!record || subscription.status !== 'active') return null
  if (subscription.next_charge_scheduled_at !== record.resumes_on || record.resumes_on <= today) return null
  return record.resumes_on
}

export class MemoryPauseStore implements PauseStore {
  private readonly pauses = new LRUCache<string, Map<string, PauseRecord>>({ max: 50_000 })

  async forCustomer(customerId: string): Promise<ReadonlyMap<string, PauseRecord>> {
    return this.pauses.get(customerId) ?? new Map()
  }

  async set(customerId: string, subscriptionId: string, record: PauseRecord): Promise<void> {
    const current = this.pauses.get(customerId) ?? new Map<string, PauseRecord>()
    current.set(subscriptionId, record)
    this.pauses.set(customerId, current)
  }

  async clear(customerId: string, subscriptionId: string): Promise<void> {
    this.pauses.get(customerId)?.delete(subscriptionId)
  }
}

export class RedisPauseStore implements PauseStore {
  private readonly local = new MemoryPauseStore()
  private readonly redis: RedisClient
  private readonly log: FastifyBaseLogger
  private readonly prefix: string

  constructor(redis: RedisClient, log: FastifyBaseLogger, prefix: string) {
    this.redis = redis
    this.log = log
    this.prefix = prefix
  }

  async forCustomer(customerId: string): Promise<ReadonlyMap<string, PauseRecord>> {
    // Read on every list: with Redis known to be down, answer from memory instead of waiting for the deadline.
    if (!this.redis.isReady) return this.local.forCustomer(customerId)
    try {
      const fields = await this.redis.hGetAll(this.key(customerId))
      const pauses = new Map<string, PauseRecord>()
      for (const [subscriptionId, json] of Object.entries(fields)) {
        const record = parseRecord(String(json))
        if (record) pauses.set(subscriptionId, record)
      }
      return pauses
    } catch (error) {
      this.degraded(error)
      return this.local.forCustomer(customerId)
    }
  }

  async set(customerId: string, subscriptionId: string, record: PauseRecord): Promise<void> {
    await this.local.set(customerId, subscriptionId, record)
    try {
      const key = this.key(customerId)
      await this.redis.multi().hSet(key, subscriptionId, JSON.stringify(record)).pExpire(key, RECORD_TTL_MS).exec()
    } catch (error) {
      this.degraded(error)
    }
  }

  async clear(customerId: string, subscriptionId: string): Promise<void> {
    await this.local.clear(customerId, subscriptionId)
    try {
      await this.redis.hDel(this.key(customerId), subscriptionId)
    } catch (error) {
      this.degraded(error)
    }
  }

  private key(customerId: string): string {
    return `${this.prefix}{${customerId}}`
  }

  private degraded(error: unknown): void {
    this.log.warn({ err: { message: (error as Error).message } }, 'pauses: Redis unavailable, using this replica')
  }
}

function parseRecord(json: string): PauseRecord | null {
  try {
    const value = JSON.parse(json) as Partial<PauseRecord>
    if (typeof value.resumes_on !== 'string') return null
    return { resumes_on: value.resumes_on, resume_to: typeof value.resume_to === 'string' ? value.resume_to : null }
  } catch {
    return null
  }
}
