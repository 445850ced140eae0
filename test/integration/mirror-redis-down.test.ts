import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { DisposableRedis } from '../../tools/redis-server.ts'
import { testConfig } from '../support/config.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'
import { until } from '../support/until.ts'

/**
 * The mirror while its Redis is down: the state turns `degraded`, shopper reads answer through Recharge, the admin
 * route still answers; once Redis is back (empty, as a replaced server), the mirror warms again and is ready.
 */
const adminKey = 'test-admin-key-0123456789abcdef'
let redis: DisposableRedis
let sim: TestSimulator
let app: FastifyInstance

async function status() {
  const response = await app.inject({
    method: 'GET',
    url: '/v1/admin/mirror',
    headers: { authorization: `Bearer ${adminKey}` },
  })
  expect(response.statusCode).toBe(200)
  return response.json()
}

beforeAll(async () => {
  redis = await DisposableRedis.start()
  sim = await startTestSimulator({ bucketSize: 1000, leakRate: 1000 })
  app = await buildApp(
    testConfig({
      REDIS_URL: redis.url,
      RECHARGE_API_URL: sim.url,
      RECHARGE_API_TOKEN: sim.apiToken,
      RECHARGE_BUCKET_SIZE: '1000',
      RECHARGE_LEAK_RATE: '1000',
      MIRROR: 'on',
    }),
    { mirror: { tickMs: 50, statusMs: 50 } },
  )
  await app.ready()
})

afterAll(async () => {
  await app?.close()
  await sim?.close()
  await redis?.stop()
})

describe('the mirror while Redis is down', () => {
  it('goes degraded and reads fall back to Recharge; warms again when Redis is back', async () => {
    await until(async () => (await status()).state === 'ready', 30_000, 'mirror ready')
    const minted = await app.inject({
      method: 'POST',
      url: '/v1/admin/customer-tokens',
      headers: { authorization: `Bearer ${adminKey}` },
      payload: { email: 'alice@example.com' },
    })
    expect(minted.statusCode).toBe(201)
    const token = minted.json().token
    const read = () =>
      app.inject({ method: 'GET', url: '/v1/subscriptions', headers: { authorization: `Bearer ${token}` } })
    let since = (await sim.ledger()).length
    expect((await read()).statusCode).toBe(200)
    expect((await sim.ledger()).slice(since)).toEqual([])

    await redis.stop()
    await until(async () => (await status()).state === 'degraded', 15_000, 'mirror degraded')
    since = (await sim.ledger()).length
    const during = await read()
    expect(during.statusCode).toBe(200)
    expect(during.json().subscriptions.length).toBeGreaterThan(0)
    expect((await sim.ledger()).slice(since).length).toBeGreaterThan(0)

    await redis.restart()
    await until(async () => (await status()).state === 'ready', 30_000, 'mirror ready again')
    expect((await status()).customers).toBe((await sim.state()).customers.length)
  })
})
