import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { RedisClient } from '../../src/infra/redis.ts'
import { testConfig } from '../support/config.ts'
import { connectRedis, deleteKeys, redisUrl } from '../support/redis.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'
import { until } from '../support/until.ts'

/**
 * A change made in Recharge itself (here: straight in the simulator) reaches the account routes on the next read:
 * the simulator delivers its signed webhooks to the listening bridge, which drops the tagged cache entries. The
 * cached lists live 30 s, so the polls below (bounded well under that) only succeed through the webhooks.
 */
const clientSecret = 'sim_whsec_account_0001'
const adminKey = 'test-admin-key-0123456789abcdef'
const namespace = `tacctwh${randomBytes(4).toString('hex')}-`
const webhookPrefix = `test:acct-webhooks:${randomBytes(4).toString('hex')}`
/** Well under the lists' 30 s lifetime: passing proves the webhook dropped the entry, not its expiry. */
const WITHIN_MS = 10_000

const TOPICS = ['customer/updated', 'address/created', 'address/updated', 'order/created', 'charge/paid']

let sim: TestSimulator
let redis: RedisClient
let bridge: FastifyInstance

async function token(email: string): Promise<string> {
  const response = await bridge.inject({
    method: 'POST',
    url: '/v1/admin/customer-tokens',
    headers: { authorization: `Bearer ${adminKey}` },
    payload: { email },
  })
  return response.json().token
}

async function read(shopper: string, url: string) {
  const response = await bridge.inject({ method: 'GET', url, headers: { authorization: `Bearer ${shopper}` } })
  expect(response.statusCode).toBe(200)
  return response.json()
}

beforeAll(async () => {
  sim = await startTestSimulator({ clientSecret, bucketSize: 1000, leakRate: 1000, addressWriteWindowMs: 0 })
  redis = await connectRedis()
  bridge = await buildApp(
    testConfig({
      RECHARGE_API_URL: sim.url,
      RECHARGE_API_TOKEN: sim.apiToken,
      RECHARGE_WEBHOOK_SECRET: clientSecret,
      RECHARGE_BUCKET_SIZE: '1000',
      RECHARGE_LEAK_RATE: '1000',
      REDIS_URL: redisUrl(),
    }),
    { redis, shopper: { namespace }, webhooks: { keyPrefix: webhookPrefix, blockMs: 100, watchdog: false } },
  )
  const url = await bridge.listen({ port: 0, host: '127.0.0.1' })
  for (const topic of TOPICS) {
    const created = await sim.api('POST', '/webhooks', {
      webhook: { address: `${url}/v1/webhooks/recharge?topic=${topic}`, topic },
    })
    expect(created.status).toBe(201)
  }
}, 60_000)

afterAll(async () => {
  await bridge?.close()
  await sim?.close()
  await deleteKeys(redis, `${webhookPrefix}*`)
  await deleteKeys(redis, `rb:*${namespace}*`)
  await redis?.close()
})

describe('account reads after changes made in Recharge', () => {
  it('customer/updated: a new name shows on GET /v1/me', async () => {
    const frank = await token('frank@example.com')
    expect((await read(frank, '/v1/me')).first_name).toBe('Frank')
    const state = await sim.state()
    const customer = state.customers.find((row) => row.email === 'frank@example.com')
    expect((await sim.api('PUT', `/customers/${customer?.id}`, { first_name: 'Francis' })).status).toBe(200)
    await until(async () => (await read(frank, '/v1/me')).first_name === 'Francis', WITHIN_MS, 'the new name')
  })

  it('address/created: a new address shows in the list and under the card that pays for it', async () => {
    const erin = await token('erin@example.com')
    const before = (await read(erin, '/v1/addresses')).addresses.length
    const methods = (await read(erin, '/v1/payment-methods')).payment_methods
    const state = await sim.state()
    const customer = state.customers.find((row) => row.email === 'erin@example.com')
    const created = await sim.api('POST', '/addresses', {
      customer_id: customer?.id,
      first_name: 'Erin',
      last_name: 'Example',
      address1: '9 Harbour Road',
      city: 'Portland',
      province: 'Oregon',
      zip: '97201',
      country_code: 'US',
    })
    expect(created.status).toBe(201)
    const id = String(created.body.address.id)
    await until(async () => (await read(erin, '/v1/addresses')).addresses.length === before + 1, WITHIN_MS)
    const payer = methods.find((method: { is_default: boolean }) => method.is_default)
    const after = (await read(erin, '/v1/payment-methods')).payment_methods
    expect(after.find((method: { id: string }) => method.id === payer.id).address_ids).toContain(id)
  })

  it('order/created: an order made by processing a charge shows on the first page of GET /v1/orders', async () => {
    const alice = await token('alice@example.com')
    const first = await read(alice, '/v1/orders?limit=5')
    const state = await sim.state()
    const customer = state.customers.find((row) => row.email === 'alice@example.com')
    const queued = state.charges.find((row) => row.customer.id === customer?.id && row.status === 'queued')
    expect((await sim.api('POST', `/charges/${queued?.id}/process`)).status).toBe(200)
    const order = (await sim.state()).orders.find((row) => row.charge.id === queued?.id)
    expect(order).toBeDefined()
    expect(first.orders.map((row: { id: string }) => row.id)).not.toContain(String(order?.id))
    await until(
      async () =>
        (await read(alice, '/v1/orders?limit=5')).orders.some((row: { id: string }) => row.id === String(order?.id)),
      WITHIN_MS,
      'the new order',
    )
    expect((await read(alice, `/v1/orders/${order?.id}`)).id).toBe(String(order?.id))
  })
})
