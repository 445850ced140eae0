import { randomBytes, randomUUID } from 'node:crypto'
import { Writable } from 'node:stream'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { RedisClient } from '../../src/infra/redis.ts'
import { testConfig } from '../support/config.ts'
import { connectRedis, deleteKeys, redisUrl } from '../support/redis.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * Run every shopper route at LOG_LEVEL=trace with the logs captured, and search logs and responses for credentials:
 * the Recharge token, every customer hash, customer tokens, portal-link tokens, the admin key and the token secret.
 * The only places a credential may appear are the responses whose purpose is to hand it over (a minted token, a
 * portal link, the portal URL and its 302).
 */
const namespace = `t${randomBytes(4).toString('hex')}-`
const adminKey = 'test-admin-key-0123456789abcdef'
const tokenSecret = 'test-customer-token-secret-0123456789abcdef'

let sim: TestSimulator
let redis: RedisClient
let app: FastifyInstance
const logLines: string[] = []

beforeAll(async () => {
  sim = await startTestSimulator({ apiTokens: [`sk_test_${namespace}`], bucketSize: 1000, leakRate: 1000 })
  redis = await connectRedis()
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(...String(chunk).split('\n').filter(Boolean))
      done()
    },
  })
  app = await buildApp(
    testConfig({
      LOG_LEVEL: 'trace',
      RECHARGE_API_URL: sim.url,
      RECHARGE_API_TOKEN: sim.apiToken,
      RECHARGE_STORE_SUBDOMAIN: sim.storeSubdomain,
      RECHARGE_BUCKET_SIZE: '1000',
      RECHARGE_LEAK_RATE: '1000',
      REDIS_URL: redisUrl(),
    }),
    { redis, backgroundWorkers: false, logStream, shopper: { namespace } },
  )
  await app.ready()
})

afterAll(async () => {
  await app?.close()
  await sim?.close()
  await deleteKeys(redis, `rb:${namespace}*`)
  await redis?.close()
})

interface Exchange {
  name: string
  response: LightMyRequestResponse
  /** Credentials this response exists to hand over. */
  mayContain: string[]
}

describe('credentials in logs and responses', () => {
  it('never appear in a log line, and in responses only where they are the point', async () => {
    const exchanges: Exchange[] = []
    const send = async (
      name: string,
      options: { method: 'GET' | 'POST' | 'PATCH'; url: string; token?: string; payload?: object; headers?: object },
      mayContain: string[] = [],
    ) => {
      const response = await app.inject({
        method: options.method,
        url: options.url,
        headers: { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers },
        ...(options.payload ? { payload: options.payload } : options.method === 'GET' ? {} : { payload: {} }),
      })
      exchanges.push({ name, response, mayContain })
      return response
    }

    const state = await sim.state()
    const hashes = state.customers.map((customer) => customer.hash)
    const alice = state.customers.find((customer) => customer.email === 'alice@example.com')
    const bob = state.customers.find((customer) => customer.email === 'bob@example.com')
    if (!alice || !bob) throw new Error('seeded shoppers missing')

    const mintFor = async (email: string) => {
      const probe = await app.inject({
        method: 'POST',
        url: '/v1/admin/customer-tokens',
        headers: { authorization: `Bearer ${adminKey}` },
        payload: { email },
      })
      const token = probe.json().token as string
      exchanges.push({ name: `mint ${email}`, response: probe, mayContain: [token] })
      return token
    }
    const token = await mintFor('alice@example.com')
    const bobToken = await mintFor('bob@example.com')

    const subscription = state.subscriptions.find((row) => row.customer_id === alice.id && row.status === 'active')
    const bobSubscription = state.subscriptions.find((row) => row.customer_id === bob.id)
    const address = state.addresses.find((row) => row.customer_id === alice.id)
    const sub = `/v1/subscriptions/${subscription?.id}`

    await send('me', { method: 'GET', url: '/v1/me', token })
    await send('subscriptions', { method: 'GET', url: '/v1/subscriptions', token })
    await send('subscriptions again', { method: 'GET', url: '/v1/subscriptions', token })
    await send('subscription', { method: 'GET', url: sub, token })
    await send('charges', { method: 'GET', url: '/v1/charges', token })
    await send('orders', { method: 'GET', url: '/v1/orders', token })
    await send('addresses', { method: 'GET', url: '/v1/addresses', token })
    await send('address', { method: 'GET', url: `/v1/addresses/${address?.id}`, token })
    const key = randomUUID()
    await send('skip', { method: 'POST', url: `${sub}/skip`, token, headers: { 'idempotency-key': key } })
    await send('skip replay', { method: 'POST', url: `${sub}/skip`, token, headers: { 'idempotency-key': key } })
    await send('unskip', { method: 'POST', url: `${sub}/unskip`, token })
    await send('patch', { method: 'PATCH', url: sub, token, payload: { quantity: 2 } })
    await send('cancel', { method: 'POST', url: `${sub}/cancel`, token, payload: { reason: 'Other', comment: 'x' } })
    await send('activate', { method: 'POST', url: `${sub}/activate`, token })
    await send('address patch', {
      method: 'PATCH',
      url: `/v1/addresses/${address?.id}`,
      token,
      payload: { city: 'Lisbon' },
    })
    await send('foreign id', { method: 'GET', url: `/v1/subscriptions/${bobSubscription?.id}`, token })
    await send('bob me', { method: 'GET', url: '/v1/me', token: bobToken })
    await send('bad token', { method: 'GET', url: '/v1/me', token: `${token.slice(0, -4)}AAAA` })
    await send('admin lookup', {
      method: 'GET',
      url: '/v1/admin/customers?email=alice@example.com',
      headers: { authorization: `Bearer ${adminKey}` },
    })
    await send('portal url', { method: 'GET', url: '/v1/portal/url', token }, [alice.hash])
    const link = await app.inject({
      method: 'POST',
      url: '/v1/portal/links',
      headers: { authorization: `Bearer ${token}` },
    })
    const linkToken = new URL(link.json().url).searchParams.get('token') as string
    exchanges.push({ name: 'portal link', response: link, mayContain: [linkToken] })
    const redirectPath = `/v1/portal/redirect?token=${encodeURIComponent(linkToken)}`
    const redirect = await send('portal redirect', { method: 'GET', url: redirectPath }, [alice.hash])
    expect(redirect.statusCode).toBe(302)
    await send('portal redirect reused', { method: 'GET', url: redirectPath })

    const secrets: Record<string, string> = {
      'recharge token': sim.apiToken,
      'admin key': adminKey,
      'token secret': tokenSecret,
      'alice customer token': token,
      'bob customer token': bobToken,
      'portal link token': linkToken,
      ...Object.fromEntries(hashes.map((hash, index) => [`customer hash #${index}`, hash])),
    }
    // The run was real: every exchange was logged, at trace level.
    expect(exchanges.length).toBeGreaterThan(20)
    expect(logLines.filter((line) => line.includes('"incoming request"')).length).toBeGreaterThanOrEqual(
      exchanges.length,
    )
    expect(app.log.level).toBe('trace')
    // Debug lines are in (the refused token's reason, among others).
    expect(logLines.some((line) => line.includes('"level":20'))).toBe(true)

    const logs = logLines.join('\n')
    // The redirect URL was logged, with its token redacted.
    expect(logs).toContain('/v1/portal/redirect?token=[redacted]')
    for (const [name, value] of Object.entries(secrets)) {
      expect(logs.includes(value), `${name} in logs`).toBe(false)
    }
    for (const { name, response, mayContain } of exchanges) {
      const visible = `${JSON.stringify(response.headers)}\n${response.body}`
      for (const [secretName, value] of Object.entries(secrets)) {
        if (mayContain.includes(value)) continue
        expect(visible.includes(value), `${secretName} in response "${name}"`).toBe(false)
      }
    }
    // And the hand-over responses do carry what they hand over.
    expect(exchanges.find((e) => e.name === 'portal url')?.response.body).toContain(alice.hash)
  })
})
