import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createChargeLock } from '../../src/checkout/charge-lock.ts'
import { nodeRedisRateLimitStore } from '../../src/checkout/rate-limit-store.ts'
import { createRedisClient, type RedisClient, withReplyDeadline } from '../../src/infra/redis.ts'
import { DisposableRedis } from '../../tools/redis-server.ts'
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts'

let redis: RedisClient
const prefix = `${uniquePrefix('checkout-stores')}:`

beforeAll(async () => {
  redis = await connectRedis()
})

afterAll(async () => {
  await deleteKeys(redis, `${prefix}*`)
  await redis.close()
})

function incr(
  store: { incr: (key: string, cb: (e: Error | null, r: { current: number; ttl: number }) => void, w: number) => void },
  key: string,
  windowMs = 60_000,
) {
  return new Promise<{ current: number; ttl: number }>((resolve, reject) =>
    store.incr(key, (error, result) => (error ? reject(error) : resolve(result)), windowMs),
  )
}

describe('checkout rate-limit store on node-redis', () => {
  it('counts one window per route and key across replicas', async () => {
    const ReplicaA = nodeRedisRateLimitStore({ redis, prefix: `${prefix}rl:` })
    const ReplicaB = nodeRedisRateLimitStore({ redis, prefix: `${prefix}rl:` })
    const route = { routeInfo: { method: 'POST', url: '/v1/checkouts' } }
    const a = new ReplicaA().child(route)
    const b = new ReplicaB().child(route)
    expect((await incr(a, '203.0.113.7')).current).toBe(1)
    expect((await incr(b, '203.0.113.7')).current).toBe(2)
    const third = await incr(a, '203.0.113.7')
    expect(third.current).toBe(3)
    expect(third.ttl).toBeGreaterThan(50_000)
    expect(third.ttl).toBeLessThanOrEqual(60_000)
    // Another client, another route: their own windows.
    expect((await incr(a, '203.0.113.8')).current).toBe(1)
    const other = new ReplicaA().child({ routeInfo: { method: 'POST', url: '/v1/checkouts/:token/charge' } })
    expect((await incr(other, '203.0.113.7')).current).toBe(1)
  })

  it('starts a new window when the old one expires', async () => {
    const Store = nodeRedisRateLimitStore({ redis, prefix: `${prefix}rl-expiry:` })
    const store = new Store()
    expect((await incr(store, 'client', 100)).current).toBe(1)
    expect((await incr(store, 'client', 100)).current).toBe(2)
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect((await incr(store, 'client', 100)).current).toBe(1)
  })

  it('keeps counting in process when Redis stops answering, and without Redis', async () => {
    // A Redis of its own, paused (connected, every command unanswered), so the shared one is not disturbed.
    const server = await DisposableRedis.start()
    const client = createRedisClient(server.url, 'checkout-stores-paused')
    const admin = createRedisClient(server.url, 'checkout-stores-admin')
    client.on('error', () => {})
    admin.on('error', () => {})
    try {
      await client.connect()
      await admin.connect()
      await admin.sendCommand(['CLIENT', 'PAUSE', '30000', 'ALL'])
      let degraded = 0
      const Store = nodeRedisRateLimitStore({
        redis: withReplyDeadline(client, 100),
        prefix: `${prefix}rl-down:`,
        onDegraded: () => degraded++,
      })
      const store = new Store()
      expect((await incr(store, 'client')).current).toBe(1)
      expect((await incr(store, 'client')).current).toBe(2)
      expect(degraded).toBe(1)
    } finally {
      client.destroy()
      admin.destroy()
      await server.stop()
    }
    const NoRedis = nodeRedisRateLimitStore({ redis: null, prefix: `${prefix}rl-none:` })
    const local = new NoRedis()
    expect((await incr(local, 'client')).current).toBe(1)
  })
})

describe('checkout charge lock', () => {
  it('lets one attempt per checkout hold it across replicas, and frees it on release', async () => {
    const replicaA = createChargeLock({ redis, prefix: `${prefix}lock:` })
    const replicaB = createChargeLock({ redis, prefix: `${prefix}lock:` })
    const owner = await replicaA.acquire('tok_1')
    expect(owner).not.toBeNull()
    expect(await replicaB.acquire('tok_1')).toBeNull()
    expect(await replicaA.acquire('tok_1')).toBeNull()
    expect(await replicaB.acquire('tok_2')).not.toBeNull()
    await replicaA.release('tok_1', owner!)
    expect(await replicaB.acquire('tok_1')).not.toBeNull()
  })

  it('never releases a lock it does not own', async () => {
    const lock = createChargeLock({ redis, prefix: `${prefix}lock-owner:` })
    const other = createChargeLock({ redis, prefix: `${prefix}lock-owner:` })
    const owner = await lock.acquire('tok_3')
    await other.release('tok_3', 'not-the-owner')
    expect(await other.acquire('tok_3')).toBeNull()
    await lock.release('tok_3', owner!)
  })

  it('still serialises attempts within a replica when Redis is absent', async () => {
    const lock = createChargeLock({ redis: null, prefix: `${prefix}lock-local:` })
    const owner = await lock.acquire('tok_4')
    expect(await lock.acquire('tok_4')).toBeNull()
    await lock.release('tok_4', owner!)
    expect(await lock.acquire('tok_4')).not.toBeNull()
  })
})
