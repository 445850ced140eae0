import { createHash, randomUUID } from 'node:crypto'
import type { RedisClient } from '../infra/redis.ts'

/**
 * One charge attempt per checkout at a time, across replicas. A double click with two different Idempotency-Keys
 * (or two tabs) would otherwise send two charges to Recharge; Recharge refuses the second (409/422), but only after
 * it has reached the payment processor. The lock stops the second at our door: it gets CHECKOUT_IN_PROGRESS and
 * Recharge sees one call.
 *
 * Redis `SET NX PX` with an owner token, released by compare-and-delete. Without Redis, or when Redis fails, the
 * lock is per replica: still correct for one replica, and Recharge's own single-use rule remains the backstop.
 */
export interface ChargeLock {
  /** An owner token when acquired, null when another attempt holds it. */
  acquire(checkoutToken: string): Promise<string | null>
  release(checkoutToken: string, owner: string): Promise<void>
}

/** Longer than the longest charge we wait for (25 s), so a crashed holder frees the checkout on its own. */
export const CHARGE_LOCK_TTL_MS = 40_000

const releaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`

export function createChargeLock(options: {
  redis: RedisClient | null
  prefix: string
  onDegraded?: (error: unknown) => void
}): ChargeLock {
  const local = new Map<string, { owner: string; expiresAt: number }>()
  const keyOf = (token: string) => {
    const digest = createHash('sha256').update(token).digest('base64url').slice(0, 32)
    return `${options.prefix}{${digest}}:charging`
  }

  const acquireLocal = (key: string, owner: string): string | null => {
    const now = Date.now()
    const held = local.get(key)
    if (held && held.expiresAt > now) return null
    local.set(key, { owner, expiresAt: now + CHARGE_LOCK_TTL_MS })
    return owner
  }

  return {
    async acquire(token) {
      const key = keyOf(token)
      const owner = randomUUID()
      // The in-process lock is taken first: two requests on one replica never both reach Redis or Recharge.
      if (!acquireLocal(key, owner)) return null
      const client = options.redis
      if (!client?.isReady) return owner
      try {
        const set = await client.set(key, owner, {
          condition: 'NX',
          expiration: { type: 'PX', value: CHARGE_LOCK_TTL_MS },
        })
        if (set === null) {
          local.delete(key)
          return null
        }
        return owner
      } catch (error) {
        options.onDegraded?.(error)
        return owner
      }
    },
    async release(token, owner) {
      const key = keyOf(token)
      if (local.get(key)?.owner === owner) local.delete(key)
      const client = options.redis
      if (!client?.isReady) return
      try {
        await client.eval(releaseScript, { keys: [key], arguments: [owner] })
      } catch (error) {
        // The key expires on its own (CHARGE_LOCK_TTL_MS).
        options.onDegraded?.(error)
      }
    },
  }
}
