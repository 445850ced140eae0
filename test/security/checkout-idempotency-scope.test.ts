import { randomBytes, randomUUID } from 'node:crypto'
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { CatalogProduct } from '../../src/catalog/types.ts'
import type { RedisClient } from '../../src/infra/redis.ts'
import { testConfig } from '../support/config.ts'
import { connectRedis, deleteKeys, redisUrl } from '../support/redis.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * Whose Idempotency-Key is it on the anonymous POST /v1/checkouts? Not the client IP's: behind a proxy every shopper
 * has the proxy's IP (one shared scope, where one shopper's replay hands another their checkout and its secret), and
 * a shopper whose IP changes before the retry would get a second checkout. The scope is the key itself, which
 * therefore must be unguessable. Against the simulator over HTTP and a real Redis.
 */
const namespace = `sec-idem-${randomBytes(4).toString('hex')}-`
const COFFEE = '7100000001'
const COFFEE_250G = '7200000011'

let sim: TestSimulator
let redis: RedisClient
const apps: FastifyInstance[] = []
let coffee: CatalogProduct
const logLines: string[] = []

async function bridge(overrides: Record<string, string> = {}): Promise<string> {
  const app = await buildApp(
    testConfig({
      RECHARGE_API_URL: sim.url,
      RECHARGE_API_TOKEN: sim.apiToken,
      RECHARGE_BUCKET_SIZE: '1000',
      RECHARGE_LEAK_RATE: '1000',
      REDIS_URL: redisUrl(),
      REDIS_KEY_PREFIX: namespace.slice(0, -1),
      CHECKOUT_RATE_LIMIT_PER_MINUTE: '600',
      LOG_LEVEL: 'warn',
      ...overrides,
    }),
    {
      redis,
      backgroundWorkers: false,
      shopper: { namespace },
      catalog: { namespace },
      logStream: new Writable({
        write(chunk, _encoding, done) {
          logLines.push(String(chunk))
          done()
        },
      }),
    },
  )
  apps.push(app)
  if (!coffee) {
    const product = await app.catalog.getProduct(COFFEE)
    if (!product) throw new Error('the simulator catalog has no coffee')
    coffee = product
  }
  return app.listen({ port: 0, host: '127.0.0.1' })
}

function cart(email: string) {
  const plan = coffee.plans.find((candidate) => candidate.title === 'Every month')
  return {
    lines: [{ external_product_id: COFFEE, external_variant_id: COFFEE_250G, quantity: 1, plan_id: plan?.id }],
    email,
  }
}

async function createCheckout(base: string, body: unknown, key: string, forwardedFor?: string) {
  const response = await fetch(`${base}/v1/checkouts`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'idempotency-key': key,
      ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}),
    },
    body: JSON.stringify(body),
  })
  return {
    status: response.status,
    replayed: response.headers.get('idempotent-replayed'),
    body: (await response.json()) as Record<string, unknown>,
  }
}

async function checkoutsCreatedFor(email: string): Promise<number> {
  const state = await sim.state()
  return state.checkouts.filter((checkout) => checkout.email === email).length
}

beforeAll(async () => {
  sim = await startTestSimulator({ bucketSize: 1000, leakRate: 1000 })
  redis = await connectRedis()
}, 60_000)

afterAll(async () => {
  for (const app of apps) await app.close()
  await sim?.close()
  await deleteKeys(redis, `${namespace}*`)
  await redis?.close()
})

describe('Idempotency-Key scope of POST /v1/checkouts', () => {
  it('behind a proxy (TRUST_PROXY unset), a guessable key is refused before it can hand one shopper another’s checkout', async () => {
    const base = await bridge()
    const email = `shared-${randomBytes(4).toString('hex')}@example.com`
    // Two shoppers behind one proxy, a storefront that numbers its keys: the second must not receive the first's
    // checkout and checkout_secret.
    const first = await createCheckout(base, cart(email), 'cart-1', '203.0.113.10')
    const second = await createCheckout(base, cart(email), 'cart-1', '203.0.113.11')
    for (const answer of [first, second]) {
      expect(answer.status).toBe(400)
      expect(answer.body).toMatchObject({ code: 'VALIDATION_FAILED' })
      expect(answer.body.checkout_secret).toBeUndefined()
    }
    expect(await checkoutsCreatedFor(email)).toBe(0)

    // With unguessable keys each shopper gets their own checkout, through the same proxy address.
    const a = await createCheckout(base, cart(email), randomUUID(), '203.0.113.10')
    const b = await createCheckout(base, cart(email), randomUUID(), '203.0.113.11')
    expect([a.status, b.status]).toEqual([201, 201])
    expect(a.body.token).not.toBe(b.body.token)
    expect(await checkoutsCreatedFor(email)).toBe(2)

    // The operator is told, once, that per-client limits cannot tell these clients apart.
    const warnings = logLines.filter((line) => line.includes('TRUST_PROXY is unset'))
    expect(warnings).toHaveLength(1)
  })

  it('a retry from another client address is the same request: one checkout upstream, the first answer replayed', async () => {
    const base = await bridge({ TRUST_PROXY: 'true' })
    const email = `mobile-${randomBytes(4).toString('hex')}@example.com`
    const key = randomUUID()
    const onWifi = await createCheckout(base, cart(email), key, '198.51.100.20')
    const onMobile = await createCheckout(base, cart(email), key, '192.0.2.77')
    expect(onWifi.status).toBe(201)
    expect(onMobile.status).toBe(201)
    expect(onMobile.replayed).toBe('true')
    expect(onMobile.body.token).toBe(onWifi.body.token)
    expect(onMobile.body.checkout_secret).toBe(onWifi.body.checkout_secret)
    expect(await checkoutsCreatedFor(email)).toBe(1)
  })
})
