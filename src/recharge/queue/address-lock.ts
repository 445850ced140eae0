import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { RedisClient } from '../../infra/redis.ts'
import { RechargeAbortedError, RechargeConflictError } from '../errors.ts'
import type { RechargeLog } from '../observability.ts'

/**
 * Recharge answers 409 when two requests edit one address (or its subscriptions, charges, onetimes) at the same
 * time. Writes under one address are therefore serialised: across replicas by a Redis lock (SET NX PX, released by a
 * token-checked script so a late release never frees someone else's lock), in process by a promise chain. The wait is
 * bounded by the caller's deadline.
 */

export type Release = () => Promise<void>

export interface AddressLocks {
  acquire(addressId: string, deadlineAt: number, signal?: AbortSignal): Promise<Release>
}

function lockTimeout(addressId: string): RechargeConflictError {
  void addressId
  return new RechargeConflictError('Another change to this address is still in progress', {
    operation: 'address lock',
  })
}

/** One replica: waiters on one address run one after another. */
export class LocalAddressLocks implements AddressLocks {
  private readonly tails = new Map<string, Promise<void>>()

  async acquire(addressId: string, deadlineAt: number, signal?: AbortSignal): Promise<Release> {
    const previous = this.tails.get(addressId) ?? Promise.resolve()
    let unlock!: () => void
    const mine = new Promise<void>((resolve) => {
      unlock = resolve
    })
    const tail = previous.then(() => mine)
    this.tails.set(addressId, tail)
    const release: Release = async () => {
      unlock()
      if (this.tails.get(addressId) === tail) this.tails.delete(addressId)
    }
    const remaining = deadlineAt - Date.now()
    const timer = new AbortController()
    const waits: Promise<unknown>[] = [previous, sleep(Math.max(0, remaining), 'timeout', { signal: timer.signal })]
    if (signal) waits.push(abortPromise(signal))
    try {
      const outcome = await Promise.race(waits)
      if (outcome === 'timeout' || outcome === 'aborted') {
        // Give up our place without blocking whoever queued behind us: they wait for `previous` through us.
        void previous.then(release)
        throw outcome === 'aborted'
          ? new RechargeAbortedError('Cancelled while waiting for the address')
          : lockTimeout(addressId)
      }
      return release
    } finally {
      timer.abort()
    }
  }
}

function abortPromise(signal: AbortSignal): Promise<'aborted'> {
  if (signal.aborted) return Promise.resolve('aborted')
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve('aborted'), { once: true }))
}

const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`

/**
 * Replicas share a Redis lock per address; while Redis is unavailable each replica falls back to its own local lock
 * (degraded: a 409 between replicas becomes possible and is surfaced as CONFLICT, never replayed).
 */
export class RedisAddressLocks implements AddressLocks {
  private readonly redis: RedisClient
  private readonly keyPrefix: string
  private readonly local = new LocalAddressLocks()
  private readonly log: RechargeLog
  private lastWarnedAt = 0

  constructor(options: { redis: RedisClient; keyPrefix: string; log: RechargeLog }) {
    this.redis = options.redis
    this.keyPrefix = options.keyPrefix
    this.log = options.log
  }

  async acquire(addressId: string, deadlineAt: number, signal?: AbortSignal): Promise<Release> {
    // Serialise locally first: same-replica waiters do not poll Redis against each other.
    const releaseLocal = await this.local.acquire(addressId, deadlineAt, signal)
    const key = `${this.keyPrefix}:lock:address:${addressId}`
    const token = randomUUID()
    let pause = 10
    try {
      for (;;) {
        if (signal?.aborted) throw new RechargeAbortedError('Cancelled while waiting for the address')
        const remaining = deadlineAt - Date.now()
        if (remaining <= 0) throw lockTimeout(addressId)
        let acquired: boolean
        try {
          // The lock outlives the call's deadline by a margin, so it cannot expire under a call still running.
          const reply = await this.redis.set(key, token, {
            condition: 'NX',
            expiration: { type: 'PX', value: Math.ceil(remaining) + 2_000 },
          })
          acquired = reply === 'OK'
        } catch (error) {
          if (Date.now() - this.lastWarnedAt > 10_000) {
            this.lastWarnedAt = Date.now()
            this.log.warn(
              { err: { message: (error as Error).message } },
              'address lock: Redis unavailable; local lock only',
            )
          }
          return releaseLocal
        }
        if (acquired) {
          return async () => {
            try {
              await this.redis.eval(RELEASE_SCRIPT, { keys: [key], arguments: [token] })
            } catch {
              // The lock expires on its own (PX); nothing else to do.
            } finally {
              await releaseLocal()
            }
          }
        }
        await sleep(Math.min(remaining, pause + Math.random() * pause))
        pause = Math.min(100, pause * 2)
      }
    } catch (error) {
      await releaseLocal()
      throw error
    }
  }
}
