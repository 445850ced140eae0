import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { RedisClient } from '../../src/infra/redis.ts'
import { DEFAULT_WRITES_PER_MINUTE } from '../../src/shopper/write-limit.ts'
import { testConfig } from '../support/config.ts'
import { connectRedis, deleteKeys, listKeys, redisUrl } from '../support/redis.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * Attack: a shopper's script spreads its writes over two replicas to write twice the per-shopper budget (the
 * budget used to be counted in each process, because the Redis client wrapper broke MULTI). Both replicas now count
 * in one Redis window: the 31st write in a minute, wherever it lands, is refused, and nothing falls back.
 */
const namespace = `wl${randomBytes(4).toString('hex')}-`
const adminKey = 'test-admin-key-0123456789abcdef'

let sim: TestSimulator
let direct: RedisClient
const replicas: FastifyInstance[] = []
const logs: string[] = []

const logStream = new Writable({
  write(chunk, _encoding, done) {
    logs.push(String(chunk))
    done()
  },
})

beforeAll(async () => {
  sim = await startTestSimulator({ apiTokens: [`sk_test_${namespace}`], bucketSize: 1000, leakRate: 1000 })
  direct = await connectRedis()
  for (let index = 0; index < 2; index++) {
    const app = await buildApp(
      testConfig({
        LOG_LEVEL: 'info',
        RECHARGE_API_URL: sim.url,
        RECHARGE_API_TOKEN: sim.apiToken,
        RECHARGE_STORE_SUBDOMAIN: sim.storeSubdomain,
        RECHARGE_BUCKET_SIZE: '1000',
        RECHARGE_LEAK_RATE: '1000',
        REDIS_URL: redisUrl(),
      }),
      { backgroundWorkers: false, shopper: { namespace }, logStream },
    )
    await app.ready()
    replicas.push(app)
  }
})

afterAll(async () => {
  for (const app of replicas) await app.close()
  if (direct) await deleteKeys(direct, `*${namespace}*`)
  await direct?.close()
  await sim?.close()
})

describe('per-shopper write limit across replicas', () => {
  it("refuses a shopper's 31st write in a minute across two replicas with 429 and Retry-After, without falling back", async () => {
    const [first, second] = replicas as [FastifyInstance, FastifyInstance]
    const minted = await first.inject({
      method: 'POST',
      url: '/v1/admin/customer-tokens',
      headers: { authorization: `Bearer ${adminKey}` },
      payload: { email: 'alice@example.com' },
    })
    const auth = { authorization: `Bearer ${minted.json().token}` }
    const list = await first.inject({ method: 'GET', url: '/v1/subscriptions', headers: auth })
    const subscription = list.json().subscriptions.find((row: { status: string }) => row.status === 'active')
    const before = (await sim.ledger({ method: 'PUT' })).length

    const write = (app: FastifyInstance, n: number) =>
      app.inject({
        method: 'PATCH',
        url: `/v1/subscriptions/${subscription.id}`,
        headers: auth,
        payload: { quantity: 2 + (n % 2) },
      })
    for (let n = 0; n < DEFAULT_WRITES_PER_MINUTE; n++) {
      const response = await write(n % 2 === 0 ? first : second, n)
      expect(response.statusCode, `write ${n + 1}`).toBe(200)
    }
    const refused = [await write(first, 30), await write(second, 31)]
    for (const response of refused) {
      expect(response.statusCode).toBe(429)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(response.json().code).toBe('RATE_LIMITED')
      const retryAfter = Number(response.headers['retry-after'])
      expect(retryAfter).toBeGreaterThanOrEqual(1)
      expect(retryAfter).toBeLessThanOrEqual(60)
    }
    // Recharge received the 30 allowed writes and nothing more.
    expect((await sim.ledger({ method: 'PUT' })).length - before).toBe(DEFAULT_WRITES_PER_MINUTE)
    // One window in Redis, under a hash-tagged key, counted by both replicas.
    const keys = await listKeys(direct, `*${namespace}shopper-writes:*`)
    expect(keys).toHaveLength(1)
    expect(keys[0]).toMatch(/\{\d+\}$/)
    expect(Number(await direct.get(keys[0] as string))).toBe(DEFAULT_WRITES_PER_MINUTE + 2)
    // The logs were captured (the refusals are in them), and nothing fell back to counting in process.
    expect(logs.join('')).toContain('"code":"RATE_LIMITED"')
    expect(logs.join('')).not.toContain('counting locally')
    expect(logs.join('')).not.toContain('Multi is not a constructor')
  })
})
