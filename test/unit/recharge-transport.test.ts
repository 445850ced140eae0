import { inspect } from 'node:util'
import { MockAgent } from 'undici'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createRecharge, type RechargeStack } from '../../src/recharge/create.ts'
import {
  RechargeAbortedError,
  RechargeBadResponseError,
  RechargeRateLimitedError,
  RechargeTimeoutError,
  RechargeUnavailableError,
  RechargeValidationError,
} from '../../src/recharge/errors.ts'
import { pathTemplate } from '../../src/recharge/transport.ts'

const TOKEN = 'sk_test_transport_secret_token'
const ORIGIN = 'http://recharge.test'

const subscription = {
  id: 1,
  address_id: 2,
  customer_id: 3,
  status: 'ACTIVE',
  quantity: '2',
  price: 10,
  next_charge_scheduled_at: '2030-01-01T00:00:00',
  order_interval_unit: 'Months',
  external_variant_id: { ecommerce: 55 },
  surprise_field: 'dropped',
}

let agent: MockAgent
let stack: RechargeStack

function build(overrides: { bucketSize?: number; leakRate?: number } = {}) {
  stack = createRecharge({
    baseUrl: ORIGIN,
    token: TOKEN,
    apiVersion: '2021-11',
    bucketSize: overrides.bucketSize ?? 40,
    leakRate: overrides.leakRate ?? 200,
    dispatcher: agent,
  })
  return stack.client
}

beforeEach(() => {
  agent = new MockAgent()
  agent.disableNetConnect()
})

afterEach(async () => {
  await stack?.close(1_000)
  await agent.close()
})

describe('Recharge transport over an injected dispatcher', () => {
  it('adds the token and version headers to every request, even through an injected dispatcher', async () => {
    const seen: Record<string, unknown>[] = []
    agent
      .get(ORIGIN)
      .intercept({ path: '/subscriptions/1', method: 'GET' })
      .reply((options) => {
        seen.push(options.headers as Record<string, unknown>)
        return { statusCode: 200, data: { subscription } }
      })
    const client = build()
    const result = await client.subscriptions.get('1')
    expect(result).toMatchObject({ id: '1', status: 'active', quantity: 2, price: '10', order_interval_unit: 'month' })
    expect(result.external_variant_id).toBe('55')
    expect(result.next_charge_scheduled_at).toBe('2030-01-01')
    expect(result).not.toHaveProperty('surprise_field')
    expect(seen[0]?.['x-recharge-access-token']).toBe(TOKEN)
    expect(seen[0]?.['x-recharge-version']).toBe('2021-11')
  })

  it('replaces a token header a caller tried to set (the interceptor is outermost)', async () => {
    const seen: Record<string, unknown>[] = []
    agent
      .get(ORIGIN)
      .intercept({ path: '/store', method: 'GET' })
      .reply((options) => {
        seen.push(options.headers as Record<string, unknown>)
        return { statusCode: 200, data: { store: { id: 1, name: 'Shop' } } }
      })
    const client = build()
    const store = await client.transport.send({
      method: 'GET',
      path: '/store',
      schema: z.object({ store: z.object({ name: z.string() }) }),
    })
    expect(store.store.name).toBe('Shop')
    expect(seen[0]?.['x-recharge-access-token']).toBe(TOKEN)
  })

  it('maps a 422 field map to a Validation error rendered without the raw body or the token', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: '/subscriptions/1/set_next_charge_date', method: 'POST' })
      .reply(
        422,
        { errors: { date: ['date is not far enough in the future'] } },
        { headers: { 'x-request-id': 'up-123' } },
      )
    const client = build()
    const error = await client.subscriptions.setNextChargeDate('1', '2000-01-01', { addressId: '2' }).catch((e) => e)
    expect(error).toBeInstanceOf(RechargeValidationError)
    expect(error.upstreamRequestId).toBe('up-123')
    expect(error.upstreamMessage).toContain('not far enough')
    const app = error.toAppError()
    expect(app.status).toBe(422)
    expect(app.code).toBe('UPSTREAM_REJECTED')
    expect(app.errors).toEqual([{ field: 'upstream.date', message: 'date is not far enough in the future' }])
    expect(inspect(error, { depth: 5 })).not.toContain(TOKEN)
    expect(JSON.stringify(app)).not.toContain(TOKEN)
  })

  it('retries a GET after a 5xx and a malformed body, each retry booking a slot', async () => {
    const pool = agent.get(ORIGIN)
    pool.intercept({ path: '/orders/9', method: 'GET' }).reply(502, '<html>bad gateway</html>')
    pool.intercept({ path: '/orders/9', method: 'GET' }).reply(200, '{"order": {"id": 9, "sta')
    pool.intercept({ path: '/orders/9', method: 'GET' }).reply(200, { order: { id: 9, status: 'success' } })
    const client = build()
    const order = await client.orders.get('9')
    expect(order).toMatchObject({ id: '9', status: 'success' })
    agent.assertNoPendingInterceptors()
  })

  it('never re-sends a write that met a 5xx', async () => {
    let calls = 0
    agent
      .get(ORIGIN)
      .intercept({ path: '/subscriptions/1/cancel', method: 'POST' })
      .reply(() => {
        calls++
        return { statusCode: 500, data: { errors: 'boom' } }
      })
      .persist()
    const client = build()
    const error = await client.subscriptions
      .cancel('1', { cancellation_reason: 'x' }, { addressId: '2' })
      .catch((e) => e)
    expect(error).toBeInstanceOf(RechargeUnavailableError)
    expect(error.toAppError().code).toBe('UPSTREAM_UNAVAILABLE')
    expect(calls).toBe(1)
  })

  it('absorbs a 429: the bucket is read as full and the call is re-sent within its deadline', async () => {
    const pool = agent.get(ORIGIN)
    pool.intercept({ path: '/charges/5/skip', method: 'POST' }).reply(429, { warning: 'too many requests' })
    pool.intercept({ path: '/charges/5/skip', method: 'POST' }).reply(200, { charge: { id: 5, status: 'SKIPPED' } })
    const client = build({ bucketSize: 10, leakRate: 100 })
    const charge = await client.charges.skip('5', ['1'], { addressId: '2' })
    expect(charge.status).toBe('skipped')
    agent.assertNoPendingInterceptors()
  })

  it('rejects at admission, without sending, when the slot is past the deadline', async () => {
    let calls = 0
    agent
      .get(ORIGIN)
      .intercept({ path: '/store', method: 'GET' })
      .reply(() => {
        calls++
        return { statusCode: 200, data: { store: {} } }
      })
      .persist()
    // A bucket of 4 with 2 kept as safety margin admits 3 calls at once; then 1 call per 10 s.
    const client = build({ bucketSize: 4, leakRate: 0.1 })
    await client.store.get()
    await client.store.get()
    await client.store.get()
    const error = await client.store.get({ deadlineMs: 1_000 }).catch((e) => e)
    expect(calls).toBe(3)
    expect(error).toBeInstanceOf(RechargeRateLimitedError)
    expect(error.reason).toBe('admission')
    const app = error.toAppError()
    expect(app.status).toBe(503)
    expect(app.code).toBe('UPSTREAM_BUSY')
    expect(Number.isInteger(app.retryAfter)).toBe(true)
    expect(app.retryAfter).toBeGreaterThanOrEqual(1)
    expect(calls).toBe(3)
  })

  it('sends only cursor and limit on follow-up pages', async () => {
    const paths: string[] = []
    const pool = agent.get(ORIGIN)
    pool
      .intercept({ path: (path) => path.startsWith('/subscriptions?'), method: 'GET' })
      .reply((options) => {
        paths.push(options.path)
        const first = !options.path.includes('cursor=')
        return {
          statusCode: 200,
          data: {
            subscriptions: [subscription],
            next_cursor: first ? 'abc' : null,
            previous_cursor: first ? null : '',
          },
        }
      })
      .times(2)
    const client = build()
    const { pageSchema } = await import('../../src/recharge/pagination.ts')
    const { subscriptionSchema } = await import('../../src/recharge/schemas/subscriptions.ts')
    const pages: unknown[][] = []
    for await (const rows of client.paginate({
      path: '/subscriptions',
      filters: { customer_id: '3', status: 'active' },
      schema: pageSchema('subscriptions', subscriptionSchema),
    })) {
      pages.push(rows)
    }
    expect(pages).toHaveLength(2)
    expect(paths[0]).toBe('/subscriptions?customer_id=3&status=active&limit=250')
    expect(paths[1]).toBe('/subscriptions?cursor=abc&limit=250')
  })

  it('refuses a 2xx body of the wrong shape as a BadResponse (502)', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: '/customers/4', method: 'GET' })
      .reply(200, { customer: { email: 'x' } })
    const client = build()
    const error = await client.customers.get('4').catch((e) => e)
    expect(error).toBeInstanceOf(RechargeBadResponseError)
    expect(error.toAppError().status).toBe(502)
  })

  it('re-sends a write only when the connection was refused before anything was sent', async () => {
    const pool = agent.get(ORIGIN)
    pool
      .intercept({ path: '/subscriptions/1/activate', method: 'POST' })
      .replyWithError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))
    pool.intercept({ path: '/subscriptions/1/activate', method: 'POST' }).reply(200, { subscription })
    const client = build()
    const result = await client.subscriptions.activate('1', { addressId: '2' })
    expect(result.id).toBe('1')
    agent.assertNoPendingInterceptors()
  })

  it('does not re-send a write whose connection broke after sending', async () => {
    let calls = 0
    agent
      .get(ORIGIN)
      .intercept({ path: '/subscriptions/1/activate', method: 'POST' })
      .reply(() => {
        calls++
        throw Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })
      })
      .persist()
    const client = build()
    const error = await client.subscriptions.activate('1', { addressId: '2' }).catch((e) => e)
    expect(error).toBeInstanceOf(RechargeUnavailableError)
    expect(calls).toBe(1)
  })

  it('sends nothing when the caller aborts before its slot', async () => {
    let calls = 0
    agent
      .get(ORIGIN)
      .intercept({ path: '/store', method: 'GET' })
      .reply(() => {
        calls++
        return { statusCode: 200, data: { store: {} } }
      })
      .persist()
    const client = build({ bucketSize: 4, leakRate: 1 })
    for (let i = 0; i < 3; i++) await client.store.get()
    const controller = new AbortController()
    const pending = client.store.get({ signal: controller.signal, deadlineMs: 5_000 }).catch((e) => e)
    setTimeout(() => controller.abort(), 50)
    const error = await pending
    expect(error).toBeInstanceOf(RechargeAbortedError)
    expect(calls).toBe(3)
  })

  it('answers 504 when Recharge does not answer within the deadline', async () => {
    agent.get(ORIGIN).intercept({ path: '/store', method: 'GET' }).reply(200, { store: {} }).delay(2_000)
    const client = build()
    const error = await client.store.get({ deadlineMs: 300 }).catch((e) => e)
    expect(error).toBeInstanceOf(RechargeTimeoutError)
    expect(error.toAppError()).toMatchObject({ status: 504, code: 'UPSTREAM_TIMEOUT' })
  })

  it('stops waiting when the caller aborts while Recharge is answering', async () => {
    // Were the abort not to reach the exchange, the call would end at its deadline with a timeout instead.
    agent.get(ORIGIN).intercept({ path: '/store', method: 'GET' }).reply(200, { store: {} }).delay(10_000)
    const client = build()
    const controller = new AbortController()
    const pending = client.store.get({ signal: controller.signal, deadlineMs: 5_000 }).catch((e) => e)
    setTimeout(() => controller.abort(), 50)
    expect(await pending).toBeInstanceOf(RechargeAbortedError)
  })

  it('refuses a body over the size limit as a BadResponse, whatever the injected dispatcher allows', async () => {
    const huge = JSON.stringify({ store: { name: 'x'.repeat(9 * 1024 * 1024) } })
    agent.get(ORIGIN).intercept({ path: '/store', method: 'GET' }).reply(200, huge).persist()
    const client = build()
    const error = await client.store.get().catch((e) => e)
    expect(error).toBeInstanceOf(RechargeBadResponseError)
    expect(error.message).toMatch(/size limit/)
  })

  it('reconciles with X-Recharge-Limit: a fuller upstream bucket puts the next free slot past a short deadline', async () => {
    const pool = agent.get(ORIGIN)
    pool
      .intercept({ path: '/store', method: 'GET' })
      .reply(200, { store: {} }, { headers: { 'x-recharge-limit': '40/40' } })
    pool
      .intercept({ path: '/store', method: 'GET' })
      .reply(200, { store: {} }, { headers: { 'x-recharge-limit': '39/40' } })
    const client = build({ bucketSize: 40, leakRate: 20 })
    // An empty book admits a call with a 20 ms deadline at once.
    await client.store.get({ deadlineMs: 20 })
    // Upstream said 40/40. Full bucket: the next slot is `safety` (3 at 20/s) intervals of 50 ms away.
    const refused = await client.store.get({ deadlineMs: 20 }).catch((e) => e)
    expect(refused).toBeInstanceOf(RechargeRateLimitedError)
    expect(refused.reason).toBe('admission')
    await client.store.get()
  })

  it('warns once when Recharge reports a bucket size other than the configured one', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: '/store', method: 'GET' })
      .reply(200, { store: {} }, { headers: { 'x-recharge-limit': '1/80' } })
      .times(2)
    const warnings: unknown[] = []
    const log = { debug() {}, info() {}, error() {}, warn: (object: unknown) => warnings.push(object) }
    stack = createRecharge({
      baseUrl: ORIGIN,
      token: TOKEN,
      apiVersion: '2021-11',
      bucketSize: 40,
      leakRate: 200,
      dispatcher: agent,
      log: log as never,
    })
    await stack.client.store.get()
    await stack.client.store.get()
    expect(warnings).toEqual([{ queue: { reportedSize: 80, configuredSize: 40 } }])
    expect(JSON.stringify(warnings)).not.toContain(TOKEN)
  })
})

describe('pathTemplate (the operation label of metrics and logs)', () => {
  it('replaces ids and long tokens so no customer value becomes a label', () => {
    expect(pathTemplate('/subscriptions/123/cancel')).toBe('/subscriptions/:id/cancel')
    expect(pathTemplate('/customers/82940705?include=addresses')).toBe('/customers/:id')
    expect(pathTemplate(`/checkouts/${'a'.repeat(41)}/charge`)).toBe('/checkouts/:id/charge')
    expect(pathTemplate('/checkouts/abc2def/charge')).toBe('/checkouts/:id/charge')
    expect(pathTemplate('/products')).toBe('/products')
    expect(pathTemplate('/')).toBe('/')
    expect(pathTemplate('')).toBe('')
    expect(pathTemplate('/addresses/7/')).toBe('/addresses/:id/')
    expect(pathTemplate('/a//b/9?x=1/2')).toBe('/a//b/:id')
    expect(pathTemplate('customers/5')).toBe('customers/:id')
  })
})
