import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { storageKey } from '../../src/idempotency/fingerprint.ts'
import { DisposableRedisCluster } from '../../tools/redis-cluster.ts'
import type { RedisProcess } from '../../tools/redis-process.ts'
import { DisposableRedisSentinel } from '../../tools/redis-sentinel.ts'
import { testConfig } from '../support/config.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * A dispatched idempotency marker must be on a replica before its write is sent (REDIS_IDEMPOTENCY_REPLICAS, default
 * 1 on a cluster or Sentinel): otherwise a primary that dies right after it loses the marker, and a same-key retry
 * sends the write twice. The replica that would be promoted is frozen (SIGSTOP: it holds its connection but
 * acknowledges nothing), and a keyed write must then be refused with nothing sent upstream, released so the key can
 * be used again, and go through once replication is back. On a cluster only the replica of the shard holding the
 * shopper's keys is frozen: a WAIT sent to any other node would be answered by a live replica and let the write out.
 * Each topology is this file's own (freezing the run's shared replica would fail the other files).
 */
const ADMIN_AUTH = { authorization: 'Bearer test-admin-key-0123456789abcdef' }

interface Target {
  env: Record<string, string>
  /** The replica that holds a copy of `key`'s slot (the one a failover would promote). */
  replicaFor(key: string): Promise<RedisProcess>
  /** The primary serving `key` (asks every node, so not while one is frozen). */
  primaryFor(key: string): Promise<RedisProcess>
  stop(): Promise<void>
}

function scenario(label: string, startTarget: () => Promise<Target>) {
  describe(`keyed writes on ${label} wait for a replica to hold their idempotency marker`, () => {
    let target: Target
    let sim: TestSimulator
    let waiting: FastifyInstance
    let notWaiting: FastifyInstance
    let shopper: { auth: Record<string, string>; subscriptionId: number; principalKey: string }
    let frozen: RedisProcess | null = null
    const prefix = `iw${randomBytes(3).toString('hex')}`

    beforeAll(async () => {
      target = await startTarget()
      const token = `sk_test_${randomBytes(4).toString('hex')}`
      sim = await startTestSimulator({ apiTokens: [token], seedCustomers: 5 })
      const bridge = (extra: Record<string, string>) =>
        buildApp(
          testConfig({
            RECHARGE_API_URL: sim.url,
            RECHARGE_API_TOKEN: token,
            RECHARGE_STORE_SUBDOMAIN: sim.storeSubdomain,
            REDIS_KEY_PREFIX: prefix,
            ...target.env,
            ...extra,
          }),
          { backgroundWorkers: false },
        )
      waiting = await bridge({})
      notWaiting = await bridge({ REDIS_IDEMPOTENCY_REPLICAS: '0' })
      await Promise.all([waiting.ready(), notWaiting.ready()])
      const state = await sim.state()
      const subscription = state.subscriptions.find((row) => row.status === 'active')
      const customer = state.customers.find((row) => row.id === subscription?.customer_id)
      if (!subscription || !customer) throw new Error('the simulator has no active subscription')
      const minted = await waiting.inject({
        method: 'POST',
        url: '/v1/admin/customer-tokens',
        headers: ADMIN_AUTH,
        payload: { email: customer.email },
      })
      expect(minted.statusCode).toBe(201)
      shopper = {
        auth: { authorization: `Bearer ${minted.json().token}` },
        subscriptionId: subscription.id,
        // Any key of this shopper: its hash tag names the slot every one of the shopper's keys lives on.
        principalKey: storageKey('', `customer:${customer.id}`, 'slot'),
      }
    }, 120_000)

    afterAll(async () => {
      frozen?.resume()
      await Promise.all([waiting?.close(), notWaiting?.close()])
      await sim?.close()
      await target?.stop()
    })

    // Quantities the seeded subscription never has, each write a change (an unchanged quantity sends nothing).
    const write = (app: FastifyInstance, key: string, quantity: number) =>
      app.inject({
        method: 'PATCH',
        url: `/v1/subscriptions/${shopper.subscriptionId}`,
        headers: { ...shopper.auth, 'idempotency-key': key },
        payload: { quantity },
      })
    const upstreamWrites = async () =>
      (await sim.ledger()).filter(
        (entry) =>
          entry.method === 'PUT' &&
          entry.path === `/subscriptions/${shopper.subscriptionId}` &&
          entry.status !== null &&
          entry.status < 400,
      ).length
    /** The shopper's idempotency keys, on the primary of their slot (found before a replica is frozen). */
    const idempotencyKeys = async (primary: RedisProcess) =>
      (await primary.command(['KEYS', `${prefix}:*idem:*`])) as string[]

    it('with its replica in step, a keyed write is sent once and its retry replayed', async () => {
      const before = await upstreamWrites()
      const first = await write(waiting, 'healthy-0001-key-abcdef', 5)
      expect(first.statusCode, first.body).toBe(200)
      const again = await write(waiting, 'healthy-0001-key-abcdef', 5)
      expect(again.statusCode).toBe(200)
      expect(again.headers['idempotent-replayed']).toBe('true')
      expect(await upstreamWrites()).toBe(before + 1)
    })

    it('with its replica frozen, a keyed write is refused with 503 and nothing is sent; it goes through once after', async () => {
      const before = await upstreamWrites()
      const primary = await target.primaryFor(shopper.principalKey)
      const keysBefore = await idempotencyKeys(primary)
      frozen = await target.replicaFor(shopper.principalKey)
      frozen.pause()
      try {
        const refused = await write(waiting, 'frozen-0002-key-abcdef', 6)
        expect(refused.statusCode).toBe(503)
        expect(refused.json().code).toBe('IDEMPOTENCY_STORE_UNAVAILABLE')
        expect(refused.headers['retry-after']).toBeDefined()
        expect(await upstreamWrites()).toBe(before)
        // Released: the key is free for a new attempt.
        expect((await idempotencyKeys(primary)).sort()).toEqual(keysBefore.sort())

        // REDIS_IDEMPOTENCY_REPLICAS=0 keeps writes flowing without the replica.
        const unguarded = await write(notWaiting, 'unguarded-0003-key-abcdef', 7)
        expect(unguarded.statusCode).toBe(200)
        expect(await upstreamWrites()).toBe(before + 1)
      } finally {
        frozen.resume()
        frozen = null
      }
      // The replica catches up on what it missed at once; a refusal until then is released (nothing sent).
      let answer = await write(waiting, 'frozen-0002-key-abcdef', 6)
      for (let attempt = 0; answer.statusCode === 503 && attempt < 40; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 250))
        answer = await write(waiting, 'frozen-0002-key-abcdef', 6)
      }
      expect(answer.statusCode).toBe(200)
      expect(await upstreamWrites()).toBe(before + 2)
    })
  })
}

describe.runIf(process.env.REDIS_TOPOLOGY === 'sentinel')('Sentinel', () => {
  scenario('Sentinel', async () => {
    const sentinel = await DisposableRedisSentinel.start()
    const replica = async () => {
      const primary = await sentinel.primary()
      const other = sentinel.servers.find((server) => server !== primary)
      if (!other) throw new Error('no replica')
      return other
    }
    return {
      env: { REDIS_SENTINELS: sentinel.sentinelList, REDIS_SENTINEL_NAME: sentinel.name },
      replicaFor: replica,
      primaryFor: () => sentinel.primary(),
      stop: () => sentinel.stop(),
    }
  })
})

describe.runIf(process.env.REDIS_TOPOLOGY === 'cluster')('Redis Cluster', () => {
  scenario('Redis Cluster', async () => {
    const cluster = await DisposableRedisCluster.start()
    return {
      env: { REDIS_URL: `redis+cluster://${cluster.nodes.map((node) => node.address).join(',')}` },
      async replicaFor(key) {
        const primary = await cluster.primaryFor(key)
        const replication = await primary.info('replication')
        const port = Number(/port=(\d+)/.exec(replication.slave0 ?? '')?.[1])
        const replica = cluster.nodes.find((node) => node.port === port)
        if (!replica) throw new Error(`no replica of ${primary.address}`)
        return replica
      },
      primaryFor: (key) => cluster.primaryFor(key),
      stop: () => cluster.stop(),
    }
  })
})
