import { randomBytes, randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { createRedisClient, type RedisClient } from '../../src/infra/redis.ts'
import { IDEMPOTENCY_TTL_MS } from '../../src/plugins/idempotency.ts'
import { DisposableRedis } from '../../tools/redis-server.ts'
import { testConfig } from '../support/config.ts'
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * Attack (or bad luck): one Idempotency-Key applied twice after Redis degrades. A key settled while Redis was
 * unreachable used to be kept in this process only, invisible once Redis answered again; an in-flight marker whose
 * answer could not be stored expired after 60 s and let a retry re-run the write. Each scenario drives a real
 * redis-server (paused, killed, restarted empty, cut off by a black-holing proxy) under the bridge, and asserts on the
 * simulator's ledger that the keyed skip reached Recharge at most once.
 */
const adminKey = 'test-admin-key-0123456789abcdef'
/** The skip call, as a simulator fault rule matches it. */
const SKIPS = { method: 'POST', path: '^/charges/\\d+/skip$' }

interface Scene {
  sim: TestSimulator
  redis: DisposableRedis
  replicas: FastifyInstance[]
  direct: RedisClient
  proxy: FaultProxy | null
  auth: Record<string, string>
  subscriptionId: string
}

let scene: Scene | null = null

afterEach(async () => {
  if (!scene) return
  scene.redis.resume()
  for (const app of scene.replicas) await app.close()
  await scene.direct.close().catch(() => scene?.direct.destroy())
  await scene.proxy?.close()
  await scene.sim.close()
  await scene.redis.stop()
  scene = null
})

/** A simulator, a private redis-server, `replicas` bridges on it (the first through a fault proxy if asked). */
async function setUp(options: { replicas?: number; proxied?: boolean } = {}): Promise<Scene> {
  const namespace = `id${randomBytes(4).toString('hex')}-`
  const sim = await startTestSimulator({ apiTokens: [`sk_test_${namespace}`], bucketSize: 1000, leakRate: 1000 })
  const redis = await DisposableRedis.start()
  const proxy = options.proxied ? await startFaultProxy({ host: '127.0.0.1', port: redis.port }) : null
  const replicas: FastifyInstance[] = []
  for (let index = 0; index < (options.replicas ?? 1); index++) {
    const url = index === 0 && proxy ? proxy.url('redis') : redis.url
    const app = await buildApp(
      testConfig({
        RECHARGE_API_URL: sim.url,
        RECHARGE_API_TOKEN: sim.apiToken,
        RECHARGE_STORE_SUBDOMAIN: sim.storeSubdomain,
        RECHARGE_BUCKET_SIZE: '1000',
        RECHARGE_LEAK_RATE: '1000',
        REDIS_URL: url,
      }),
      { backgroundWorkers: false, shopper: { namespace } },
    )
    await app.ready()
    replicas.push(app)
  }
  const direct = createRedisClient(redis.url, 'idempotency-test')
  direct.on('error', () => {})
  await direct.connect()
  const first = replicas[0] as FastifyInstance
  const minted = await first.inject({
    method: 'POST',
    url: '/v1/admin/customer-tokens',
    headers: { authorization: `Bearer ${adminKey}` },
    payload: { email: 'alice@example.com' },
  })
  const auth = { authorization: `Bearer ${minted.json().token}` }
  // A subscription with a queued charge (the skip target); every replica reads it once, so the cache is warm.
  const state = await sim.state()
  const customer = state.customers.find((row) => row.email === 'alice@example.com')
  const charge = state.charges.find(
    (row) => row.customer.id === customer?.id && row.status === 'queued' && row.line_items[0]?.purchase_item_id,
  )
  const subscriptionId = String(charge?.line_items[0]?.purchase_item_id)
  for (const app of replicas) {
    expect((await app.inject({ method: 'GET', url: '/v1/subscriptions', headers: auth })).statusCode).toBe(200)
  }
  scene = { sim, redis, replicas, direct, proxy, auth, subscriptionId }
  return scene
}

function skip(app: FastifyInstance, key: string) {
  const { auth, subscriptionId } = scene as Scene
  return app.inject({
    method: 'POST',
    url: `/v1/subscriptions/${subscriptionId}/skip`,
    headers: { ...auth, 'idempotency-key': key },
  })
}

async function skipsSent(): Promise<number> {
  const charges = await (scene as Scene).sim.ledger({ method: 'POST', path: '/charges/*' })
  return charges.filter((entry) => entry.path.endsWith('/skip')).length
}

/** Until the replica's Redis client answers again (it reconnects on its own). */
async function redisAnswers(app: FastifyInstance): Promise<void> {
  await expect.poll(async () => app.redis?.ping().catch(() => 'down'), { timeout: 20_000, interval: 100 }).toBe('PONG')
}

/** The stored entries of idempotency keys, as the bridge wrote them. */
async function idempotencyEntries(): Promise<{ key: string; state: string }[]> {
  const { direct } = scene as Scene
  const keys = await direct.keys('*idem:*')
  const entries = []
  for (const key of keys) {
    const text = await direct.get(key)
    if (text) entries.push({ key, state: (JSON.parse(text) as { state: string }).state })
  }
  return entries
}

/** The problem document of a response, after checking it is one. */
function expectProblem(response: { headers: Record<string, unknown>; json: () => unknown }): { code: string } {
  expect(response.headers['content-type']).toContain('application/problem+json')
  return response.json() as { code: string }
}

describe('one Idempotency-Key reaches Recharge at most once when Redis degrades', () => {
  it('with Redis paused during the first request and resumed before the retry', async () => {
    const { redis, replicas } = await setUp({ replicas: 2 })
    const [first, second] = replicas as [FastifyInstance, FastifyInstance]

    // Paused before the key is looked up: refused before anything is sent.
    const key = randomUUID()
    redis.pause()
    const refused = await skip(first, key)
    expect(refused.statusCode).toBe(503)
    expect(expectProblem(refused).code).toBe('IDEMPOTENCY_STORE_UNAVAILABLE')
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0)
    expect(await skipsSent()).toBe(0)
    redis.resume()
    await redisAnswers(first)
    const applied = await skip(first, key)
    expect(applied.statusCode).toBe(200)
    const replayed = await skip(second, key)
    expect(replayed.statusCode).toBe(200)
    expect(replayed.headers['idempotent-replayed']).toBe('true')
    expect(await skipsSent()).toBe(1)
  })

  it('with Redis paused while the write is on its way to Recharge, and resumed before the retry', async () => {
    const { sim, redis, replicas } = await setUp({ replicas: 2 })
    const [first, second] = replicas as [FastifyInstance, FastifyInstance]
    await sim.setFaults([{ match: SKIPS, latencyMs: 1_500, count: 1 }])
    const key = randomUUID()
    const pending = skip(first, key)
    // The key is marked dispatched right before the skip goes out; freeze Redis while Recharge works on it.
    await expect
      .poll(async () => (await idempotencyEntries()).map((entry) => entry.state), { timeout: 10_000, interval: 10 })
      .toEqual(['dispatched'])
    redis.pause()
    const answered = await pending
    expect(answered.statusCode).toBe(200)
    expect(await skipsSent()).toBe(1)
    // While Redis is frozen, no replica sends a keyed write.
    expect((await skip(second, key)).statusCode).toBe(503)
    redis.resume()
    await redisAnswers(first)
    await redisAnswers(second)
    for (const app of [first, second]) {
      const retried = await skip(app, key)
      expect(retried.statusCode).toBe(200)
      expect(retried.headers['idempotent-replayed']).toBe('true')
    }
    expect(await skipsSent()).toBe(1)
  })

  it('with Redis killed and restarted empty in between', async () => {
    const { redis, replicas } = await setUp({ replicas: 2 })
    const [first, second] = replicas as [FastifyInstance, FastifyInstance]

    // Killed before the first request: refused, nothing sent; after the restart the retry applies it once.
    const key = randomUUID()
    await redis.stop()
    const refused = await skip(first, key)
    expect(refused.statusCode).toBe(503)
    expect(expectProblem(refused).code).toBe('IDEMPOTENCY_STORE_UNAVAILABLE')
    expect(await skipsSent()).toBe(0)
    await redis.restart()
    await redisAnswers(first)
    expect((await skip(first, key)).statusCode).toBe(200)
    expect(await skipsSent()).toBe(1)

    // Killed after the answer was stored, restarted without its data: the replica that sent the write remembers
    // it, answers the retry and writes the key back, so the other replica replays it too.
    await redis.restart()
    await redisAnswers(first)
    await redisAnswers(second)
    for (const app of [first, second]) {
      const retried = await skip(app, key)
      expect(retried.statusCode).toBe(200)
      expect(retried.headers['idempotent-replayed']).toBe('true')
    }
    expect(await skipsSent()).toBe(1)
  })

  it('with Redis failing while the answer is stored', async () => {
    const { sim, replicas, direct, proxy } = await setUp({ replicas: 2, proxied: true })
    const [first, second] = replicas as [FastifyInstance, FastifyInstance]
    await sim.setFaults([{ match: SKIPS, latencyMs: 1_000, count: 1 }])
    const key = randomUUID()
    const pending = skip(first, key)
    await expect
      .poll(async () => (await idempotencyEntries()).map((entry) => entry.state), { timeout: 10_000, interval: 10 })
      .toEqual(['dispatched'])
    // The first replica's Redis connection goes silent: the answer cannot be stored, and never lands later.
    await proxy?.set({ blackhole: true })
    const answered = await pending
    expect(answered.statusCode).toBe(200)
    expect(await skipsSent()).toBe(1)
    expect((await idempotencyEntries()).map((entry) => entry.state)).toEqual(['dispatched'])

    // Another replica sees that the write was sent: while the first could still be running, "in progress"…
    const early = await skip(second, key)
    expect(early.statusCode).toBe(409)
    expect(expectProblem(early).code).toBe('IDEMPOTENCY_KEY_IN_USE')
    // …and once it is older than any request (aged here by shortening its TTL), "unsettled", never a second write.
    const [entry] = await idempotencyEntries()
    await direct.pExpire(entry?.key as string, IDEMPOTENCY_TTL_MS - 61_000)
    const late = await skip(second, key)
    expect(late.statusCode).toBe(409)
    expect(expectProblem(late).code).toBe('IDEMPOTENCY_KEY_UNSETTLED')
    expect(late.headers['retry-after']).toBeUndefined()

    // The replica that sent it still has the answer, once it reaches Redis again.
    await proxy?.set({})
    proxy?.dropConnections()
    await redisAnswers(first)
    const retried = await skip(first, key)
    expect(retried.statusCode).toBe(200)
    expect(retried.headers['idempotent-replayed']).toBe('true')
    expect(await skipsSent()).toBe(1)
  })
})
