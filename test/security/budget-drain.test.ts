import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { SignJWT } from 'jose'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { createCursorCodec } from '../../src/catalog/cursor.ts'
import type { RedisClient } from '../../src/infra/redis.ts'
import { budgetLimits } from '../../src/recharge/budget/budget.ts'
import type { LedgerEntry } from '../../src/simulator/ledger.ts'
import { testConfig } from '../support/config.ts'
import { connectRedis, deleteKeys, redisUrl } from '../support/redis.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * The store's Recharge bucket under attack: Recharge's real budget (40 calls, 2 a second) in the simulator, the
 * bridge on a real Redis with the production defaults of the budget settings, and what Recharge received read from
 * the simulator's ledger. Attacks: an anonymous client (and 50 of them) asking for made-up products, carts of
 * made-up products, every page size of the list, and made-up cursors; a signed-in shopper probing foreign ids.
 */

const secret = 'test-customer-token-secret-0123456789abcdef'
const BUCKET = 40
const LEAK_RATE = 2
/** The production defaults (src/config.ts), set explicitly: test/support/config.ts loosens them for feature tests. */
const budgetConfig = {
  PUBLIC_BUDGET_SHARE: '0.25',
  PUBLIC_CLIENT_CALLS_PER_MINUTE: '20',
  SHOPPER_REREADS_PER_MINUTE: '6',
}
const limits = budgetLimits({
  bucketSize: BUCKET,
  leakRate: LEAK_RATE,
  publicShare: 0.25,
  publicClientCallsPerMinute: 20,
  shopperRereadsPerMinute: 6,
})

let sim: TestSimulator
let redis: RedisClient
/** A fresh Redis prefix per test: its own budget book, allowances and cache (the simulator is reset too). */
let prefix = ''
const apps: FastifyInstance[] = []
/** The simulator's tokens: [0] is the bridge's (Recharge's real bucket); [1] sets records up outside that bucket. */
const tokens = [`sk_test_${randomBytes(4).toString('hex')}`, `sk_test_${randomBytes(4).toString('hex')}`]
const shopperEmails = Array.from({ length: 12 }, (_, index) => `shopper${index}@budget.example`)

async function bridge(overrides: Record<string, string> = {}, shopper: { rereadAfterMs?: number } = {}) {
  const app = await buildApp(
    testConfig({
      RECHARGE_API_URL: sim.url,
      RECHARGE_API_TOKEN: tokens[0],
      RECHARGE_STORE_SUBDOMAIN: sim.storeSubdomain,
      RECHARGE_BUCKET_SIZE: String(BUCKET),
      RECHARGE_LEAK_RATE: String(LEAK_RATE),
      REDIS_URL: redisUrl(),
      REDIS_KEY_PREFIX: prefix,
      ...budgetConfig,
      ...overrides,
    }),
    { redis, backgroundWorkers: false, shopper: { namespace: `${randomBytes(4).toString('hex')}-`, ...shopper } },
  )
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  apps.push(app)
  return { request: (request: Call) => call(base, request) }
}

interface Call {
  method: 'GET' | 'POST'
  url: string
  headers?: Record<string, string>
  payload?: unknown
}

interface Answer {
  statusCode: number
  headers: { 'content-type'?: string }
  body: string
  json(): { code?: unknown }
}

/** One request over a real socket (an in-process inject would starve the event loop's I/O under a flood). */
async function call(base: string, request: Call): Promise<Answer> {
  const response = await fetch(`${base}${request.url}`, {
    method: request.method,
    headers: {
      ...(request.payload === undefined ? {} : { 'content-type': 'application/json' }),
      ...request.headers,
    },
    ...(request.payload === undefined ? {} : { body: JSON.stringify(request.payload) }),
  })
  const body = await response.text()
  const contentType = response.headers.get('content-type')
  return {
    statusCode: response.status,
    headers: contentType ? { 'content-type': contentType } : {},
    body,
    json: () => JSON.parse(body),
  }
}

function customerToken(email: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ sub: email, iat: now, exp: now + 300 })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(secret))
}

/** Run `tasks` with at most `width` in flight: as fast as the bridge answers, without opening 1,000 at once. */
async function bounded<T>(tasks: (() => Promise<T>)[], width = 10): Promise<T[]> {
  const results: T[] = new Array(tasks.length)
  let next = 0
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) {
        const index = next++
        results[index] = await (tasks[index] as () => Promise<T>)()
      }
    }),
  )
  return results
}

async function ledgerSince(start: number): Promise<LedgerEntry[]> {
  return (await sim.ledger()).slice(start)
}

function isShopperCall(entry: LedgerEntry): boolean {
  return ['/customers', '/subscriptions', '/charges', '/addresses'].includes(entry.path)
}

/** A made-up product id and a cart of 25 made-up products. */
const madeUp = (index: number) => `made-up-${index}-${randomBytes(3).toString('hex')}`
const madeUpCart = (index: number) => ({
  lines: Array.from({ length: 25 }, (_, line) => ({
    external_product_id: madeUp(index * 100 + line),
    external_variant_id: 'v1',
    quantity: 1,
  })),
})

/** Every answer 200 (a failing one is shown with its body). */
function expectAllOk(answers: Answer[]): void {
  expect(answers.map((answer) => (answer.statusCode === 200 ? 200 : `${answer.statusCode} ${answer.body}`))).toEqual(
    answers.map(() => 200),
  )
}

function expectProblem(response: Answer, statuses: number[]): void {
  expect(statuses).toContain(response.statusCode)
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/)
  expect(typeof response.json().code).toBe('string')
}

beforeAll(async () => {
  sim = await startTestSimulator({ apiTokens: tokens, bucketSize: BUCKET, leakRate: LEAK_RATE })
  redis = await connectRedis()
})

beforeEach(async () => {
  // An empty bucket and ledger, and the seed again; then seven more shoppers (the seed has five), created with the
  // other token so the bridge's bucket stays empty.
  await sim.reset()
  prefix = `tbudget.${randomBytes(4).toString('hex')}`
  const seeded = new Set((await sim.state()).customers.map((customer) => customer.email))
  for (const [index, email] of shopperEmails.entries()) {
    if (seeded.has(email)) continue
    const response = await fetch(`${sim.url}/customers`, {
      method: 'POST',
      headers: {
        'x-recharge-access-token': tokens[1] as string,
        'x-recharge-version': '2021-11',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ email, first_name: 'Shopper', last_name: String(index) }),
    })
    expect(response.status).toBe(201)
  }
})

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close()
  await deleteKeys(redis, `${prefix}*`)
})

afterAll(async () => {
  await redis.quit()
  await sim.close()
})

describe('the anonymous flood', () => {
  it('one client: 1,000 made-up product ids and 20 carts of 25 made-up products get 4xx problems and cost at most 10 upstream calls, while 12 shoppers reading cold subscriptions all get 200', async () => {
    const api = await bridge()
    const start = (await sim.ledger()).length
    const shopperTokens = await Promise.all(shopperEmails.map(customerToken))

    const flood = bounded([
      ...Array.from(
        { length: 1000 },
        (_, index) => () => api.request({ method: 'GET', url: `/v1/catalog/products/${madeUp(index)}` }),
      ),
      ...Array.from(
        { length: 20 },
        (_, index) => () => api.request({ method: 'POST', url: '/v1/checkouts', payload: madeUpCart(index) }),
      ),
    ])
    const shoppers = Promise.all(
      shopperTokens.map((token) =>
        api.request({ method: 'GET', url: '/v1/subscriptions', headers: { authorization: `Bearer ${token}` } }),
      ),
    )
    const [attacker, served] = await Promise.all([flood, shoppers])

    for (const response of attacker.slice(0, 1000)) expectProblem(response, [404])
    for (const response of attacker.slice(1000)) expectProblem(response, [422, 429])
    expectAllOk(served)

    const anonymousCalls = (await ledgerSince(start)).filter((entry) => !isShopperCall(entry))
    expect(anonymousCalls.length).toBeLessThanOrEqual(10)
    // Not one made-up id reached Recharge.
    expect(anonymousCalls.filter((entry) => entry.path.includes('made-up'))).toEqual([])
    expect(anonymousCalls.filter((entry) => entry.method === 'POST')).toEqual([])
  })

  it('50 client addresses (TRUST_PROXY): the flood plus every page size of the list stays within the public share, and shoppers still get 200', async () => {
    const api = await bridge({ TRUST_PROXY: 'true' })
    const start = (await sim.ledger()).length
    const shopperTokens = await Promise.all(shopperEmails.map(customerToken))
    const from = (index: number) => ({ 'x-forwarded-for': `203.0.113.${index % 50}` })

    const flood = bounded([
      ...Array.from(
        { length: 1000 },
        (_, index) => () =>
          api.request({ method: 'GET', url: `/v1/catalog/products/${madeUp(index)}`, headers: from(index) }),
      ),
      ...Array.from(
        { length: 20 },
        (_, index) => () =>
          api.request({ method: 'POST', url: '/v1/checkouts', payload: madeUpCart(index), headers: from(index) }),
      ),
      // Each page size is its own cache entry: 100 distinct reads a cache cannot absorb.
      ...Array.from(
        { length: 100 },
        (_, index) => () =>
          api.request({ method: 'GET', url: `/v1/catalog/products?limit=${index + 1}`, headers: from(index) }),
      ),
    ])
    const shoppers = Promise.all(
      shopperTokens.map((token) =>
        api.request({ method: 'GET', url: '/v1/subscriptions', headers: { authorization: `Bearer ${token}` } }),
      ),
    )
    const [attacker, served] = await Promise.all([flood, shoppers])

    expectAllOk(served)
    for (const response of attacker.slice(0, 1000)) expectProblem(response, [404])
    for (const response of attacker.slice(1000, 1020)) expectProblem(response, [422, 429])
    const pages = attacker.slice(1020)
    for (const response of pages.filter((page) => page.statusCode !== 200)) expectProblem(response, [429, 503])
    expect(pages.some((page) => page.statusCode === 503)).toBe(true)

    const entries = await ledgerSince(start)
    const anonymous = entries.filter((entry) => !isShopperCall(entry))
    // The store's own reads (product index, plan index, store facts: one page each in this catalog) are not charged.
    const storeWork = anonymous.filter(
      (entry) =>
        (entry.path === '/products' && entry.query.limit === '250') ||
        entry.path === '/plans' ||
        entry.path === '/store',
    )
    const charged = anonymous.length - storeWork.length
    const times = anonymous.map((entry) => Date.parse(entry.at))
    const spanSeconds = times.length > 1 ? (Math.max(...times) - Math.min(...times)) / 1000 : 0
    expect(storeWork.length).toBeLessThanOrEqual(3)
    expect(charged).toBeGreaterThan(0)
    expect(charged).toBeLessThanOrEqual(limits.public.burst + Math.ceil(spanSeconds * limits.public.perSecond))
  })
})

describe('a shopper probing foreign ids', () => {
  it('100 probes of other shoppers’ subscriptions and addresses: every one 404, re-reads within the per-shopper budget', async () => {
    // Worst case of a minute of probing: every probe finds the cached list old enough to re-read.
    const api = await bridge({}, { rereadAfterMs: 0 })
    const state = await sim.state()
    const alice = state.customers.find((customer) => customer.email === 'alice@example.com')
    const foreignSubscriptions = state.subscriptions.filter((row) => row.customer_id !== alice?.id).map((row) => row.id)
    const foreignAddresses = state.addresses.filter((row) => row.customer_id !== alice?.id).map((row) => row.id)
    expect(foreignSubscriptions.length).toBeGreaterThan(0)
    expect(foreignAddresses.length).toBeGreaterThan(0)
    const token = await customerToken('alice@example.com')
    const headers = { authorization: `Bearer ${token}` }
    // Her own lists, read once (what any visit costs).
    expect((await api.request({ method: 'GET', url: '/v1/subscriptions', headers })).statusCode).toBe(200)
    expect((await api.request({ method: 'GET', url: '/v1/addresses', headers })).statusCode).toBe(200)
    const start = (await sim.ledger()).length

    const probes: Answer[] = []
    for (let index = 0; index < 100; index++) {
      const url =
        index % 2 === 0
          ? `/v1/subscriptions/${foreignSubscriptions[index % foreignSubscriptions.length]}`
          : `/v1/addresses/${foreignAddresses[index % foreignAddresses.length]}`
      probes.push(await api.request({ method: 'GET', url, headers }))
    }

    for (const probe of probes) expectProblem(probe, [404])
    const entries = await ledgerSince(start)
    // Never a foreign id: no single record was read, only lists.
    expect(entries.filter((entry) => /^\/(subscriptions|addresses)\/./.test(entry.path))).toEqual([])
    // Her budget counts her reads (another test's shoppers may still be refreshing their own lists meanwhile).
    const hers = entries.filter((entry) => entry.query.customer_id === String(alice?.id))
    const times = hers.map((entry) => Date.parse(entry.at))
    const spanMinutes = times.length > 1 ? (Math.max(...times) - Math.min(...times)) / 60_000 : 0
    // The documented bound (docs/security.md, Budget): the allowance's re-reads, each of which may cost one more list
    // read when the next lookup cannot trust an entry stored in the same millisecond as the re-read's invalidation.
    const allowance = limits.shopper.burst + Math.ceil(spanMinutes * limits.shopper.perMinute)
    expect(hers.length).toBeLessThanOrEqual(2 * allowance)
    for (const entry of hers) expect(['/subscriptions', '/addresses']).toContain(entry.path)
  })
})

describe('made-up catalog cursors', () => {
  it('answer 400 problem+json, the same on every repeat, with no upstream call', async () => {
    const api = await bridge()
    // Warm the first page, so nothing below has a reason to call Recharge.
    expect((await api.request({ method: 'GET', url: '/v1/catalog/products' })).statusCode).toBe(200)
    const start = (await sim.ledger()).length
    const unsigned = Buffer.from(JSON.stringify({ v: 1, u: 'eyJzdGFydGluZ19hZnRlcl9pZCI6MX0' })).toString('base64url')
    const otherKey = createCursorCodec('another-secret-0123456789abcdef0123456789').encode('eyJsYXN0IjoxfQ')
    for (const cursor of ['made-up', unsigned, otherKey as string]) {
      const answers = []
      for (let attempt = 0; attempt < 3; attempt++) {
        answers.push(await api.request({ method: 'GET', url: `/v1/catalog/products?cursor=${cursor}` }))
      }
      for (const answer of answers) expectProblem(answer, [400])
      expect(new Set(answers.map((answer) => answer.json().code))).toEqual(new Set(['VALIDATION_FAILED']))
    }
    expect(await ledgerSince(start)).toEqual([])
  })

  it('a cursor we signed that Recharge refuses (422) repeats as the same 4xx, never 502', async () => {
    const api = await bridge()
    const forged = createCursorCodec(secret).encode('bm90LWEtcmVhbC1jdXJzb3I') as string
    const answers = []
    for (let attempt = 0; attempt < 3; attempt++) {
      answers.push(await api.request({ method: 'GET', url: `/v1/catalog/products?cursor=${forged}` }))
    }
    const statuses = answers.map((answer) => answer.statusCode)
    expect(statuses[0]).toBeGreaterThanOrEqual(400)
    expect(statuses[0]).toBeLessThan(500)
    expect(statuses).toEqual([statuses[0], statuses[0], statuses[0]])
    for (const answer of answers) expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/)
  })
})
