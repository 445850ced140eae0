import { randomBytes, randomInt, randomUUID } from 'node:crypto'
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AppDeps, buildApp } from '../../src/app.ts'
import type { CatalogProduct } from '../../src/catalog/types.ts'
import type { RedisClient } from '../../src/infra/redis.ts'
import { testConfig } from '../support/config.ts'
import { connectRedis, deleteKeys, redisUrl } from '../support/redis.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * The checkout routes over HTTP against the simulator and a real Redis: carts priced from the catalog, tampering
 * refused before any upstream call, the checkout secret, one charge per checkout whatever the client repeats, the
 * processor's refusals as distinct codes, uncertain outcomes read back, and the buyer visible to the shopper API.
 */
const adminKey = 'test-admin-key-0123456789abcdef'
/** Cache names, Redis keys and the upstream token of this file: parallel files sharing one Redis never collide. */
const namespace = `co${randomBytes(4).toString('hex')}-`
/** Every request of this file comes from its own client IP (X-Forwarded-For, TRUST_PROXY): rate limits stay ours. */
const clientIp = `10.${randomInt(1, 255)}.${randomInt(1, 255)}.${randomInt(1, 255)}`

const COFFEE = '7100000001'
const COFFEE_250G = '7200000011'
const DECAF = '7100000002'
const DRIPPER = '7100000004'
const DRIPPER_WHITE = '7200000041'

let sim: TestSimulator
let redis: RedisClient
let app: FastifyInstance
let base: string
let coffee: CatalogProduct

interface Answer {
  status: number
  headers: Headers
  body: Record<string, unknown> & { [key: string]: unknown }
}

async function api(
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; ip?: string; to?: string } = {},
): Promise<Answer> {
  const response = await fetch(`${options.to ?? base}${path}`, {
    method,
    headers: {
      'x-forwarded-for': options.ip ?? clientIp,
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : {} }
}

async function bridge(
  overrides: Record<string, string> = {},
  deps: Partial<AppDeps> = {},
): Promise<{ app: FastifyInstance; base: string }> {
  const instance = await buildApp(
    testConfig({
      RECHARGE_API_URL: sim.url,
      RECHARGE_API_TOKEN: sim.apiToken,
      RECHARGE_STORE_SUBDOMAIN: sim.storeSubdomain,
      RECHARGE_BUCKET_SIZE: '1000',
      RECHARGE_LEAK_RATE: '1000',
      REDIS_URL: redisUrl(),
      TRUST_PROXY: 'true',
      CHECKOUT_RATE_LIMIT_PER_MINUTE: '600',
      ...overrides,
    }),
    { redis, backgroundWorkers: false, shopper: { namespace }, catalog: { namespace }, ...deps },
  )
  const url = await instance.listen({ port: 0, host: '127.0.0.1' })
  return { app: instance, base: url }
}

function planId(product: CatalogProduct, title: string): number {
  const plan = product.plans.find((candidate) => candidate.title === title)
  if (!plan) throw new Error(`no plan "${title}" on ${product.external_product_id}`)
  return plan.id
}

function planPrice(product: CatalogProduct, variantId: string, id: number): string {
  const price = product.variants.find((variant) => variant.external_variant_id === variantId)?.prices[0]
  const entry = price?.plans.find((plan) => plan.id === id)
  if (!entry) throw new Error(`no price for plan ${id} on variant ${variantId}`)
  return entry.discounted_price
}

const shippingAddress = {
  first_name: 'Ada',
  last_name: 'Lovelace',
  address1: '1 Analytical Way',
  city: 'Springfield',
  province: 'IL',
  zip: '62701',
  country_code: 'US',
}

function freshEmail(): string {
  return `buyer-${randomBytes(5).toString('hex')}@example.com`
}

/** A checkout ready to charge: a monthly coffee subscription, an address and a shipping rate. */
async function readyCheckout(email = freshEmail()): Promise<{ token: string; secret: string; email: string }> {
  const created = await api('POST', '/v1/checkouts', {
    body: {
      lines: [
        {
          external_product_id: COFFEE,
          external_variant_id: COFFEE_250G,
          quantity: 1,
          plan_id: planId(coffee, 'Every month'),
        },
      ],
      email,
      shipping_address: shippingAddress,
    },
  })
  expect(created.status).toBe(201)
  const token = created.body.token as string
  const secret = created.body.checkout_secret as string
  const rates = await api('GET', `/v1/checkouts/${token}/shipping-rates`, { headers: { 'x-checkout-secret': secret } })
  expect(rates.status).toBe(200)
  const [first] = rates.body.shipping_rates as { handle: string }[]
  const patched = await api('PATCH', `/v1/checkouts/${token}`, {
    headers: { 'x-checkout-secret': secret },
    body: { shipping_rate: first!.handle },
  })
  expect(patched.status).toBe(200)
  return { token, secret, email }
}

/**
 * Starts `first` and holds its charge at Recharge (a simulator gate) until `second` has been answered, then lets it
 * through: the two attempts overlap for certain, however slow the machine.
 */
async function whileChargeHeld<T>(token: string, first: () => Promise<T>, second: () => Promise<T>): Promise<T[]> {
  await sim.setFaults([{ match: { method: 'POST', path: `/checkouts/${token}/charge` }, gate: 'charge', count: 1 }])
  const firstAnswer = first()
  await expect.poll(() => sim.heldAt('charge'), { timeout: 15_000 }).toBe(1)
  const secondAnswer = await second()
  await sim.openGate('charge')
  return [await firstAnswer, secondAnswer]
}

function charge(token: string, secret: string, key: string | null, paymentToken = 'tok_visa') {
  return api('POST', `/v1/checkouts/${token}/charge`, {
    headers: { 'x-checkout-secret': secret, ...(key ? { 'idempotency-key': key } : {}) },
    body: { payment_processor: 'stripe', payment_token: paymentToken },
  })
}

/** Charge calls Recharge processed (a 429 is refused unprocessed, and the queue may re-send it). */
async function chargeCalls(token: string) {
  const calls = await sim.ledger({ method: 'POST', path: `/checkouts/${token}/charge` })
  return calls.filter((call) => call.status !== 429)
}

beforeAll(async () => {
  // Races are set up with a gate (chargeHeldAtRecharge), so no charge needs to take time.
  sim = await startTestSimulator({
    apiTokens: [`sk_test_${namespace}`],
    checkoutChargeMs: 0,
    bucketSize: 1000,
    leakRate: 1000,
  })
  redis = await connectRedis()
  ;({ app, base } = await bridge())
  const product = await app.catalog.getProduct(COFFEE)
  if (!product) throw new Error('the simulator catalog has no coffee')
  coffee = product
})

afterAll(async () => {
  await app?.close()
  await sim?.close()
  await deleteKeys(redis, `rb:${namespace}*`)
  await redis?.close()
})

describe('POST /v1/checkouts', () => {
  it('builds the Recharge checkout from the catalog: plan price and interval for a subscription, list price once', async () => {
    const monthly = planId(coffee, 'Every month')
    const expected = planPrice(coffee, COFFEE_250G, monthly)
    const created = await api('POST', '/v1/checkouts', {
      body: {
        lines: [
          { external_product_id: COFFEE, external_variant_id: COFFEE_250G, quantity: 2, plan_id: monthly },
          { external_product_id: DRIPPER, external_variant_id: DRIPPER_WHITE, quantity: 1, onetime: true },
        ],
        email: freshEmail(),
        utm: { utm_source: 'newsletter' },
      },
    })
    expect(created.status).toBe(201)
    const token = created.body.token as string
    expect(created.body.checkout_secret).toMatch(/^cs1\./)
    expect(created.body.checkout_url).toBe(`https://checkout.rechargeapps.com/r/checkout/${token}`)
    expect(created.body.lines).toEqual([
      expect.objectContaining({
        external_product_id: COFFEE,
        external_variant_id: COFFEE_250G,
        purchase_type: 'subscription',
        quantity: 2,
        unit_price: expected,
        interval: { unit: 'month', charge_every: 1, deliver_every: 1 },
      }),
      expect.objectContaining({
        external_product_id: DRIPPER,
        purchase_type: 'onetime',
        unit_price: '32.00',
        interval: null,
      }),
    ])

    // What Recharge holds: the catalog's prices and the plan's interval.
    const stored = (await sim.state()).checkouts.find((checkout) => checkout.token === token)
    expect(stored?.line_items).toEqual([
      expect.objectContaining({
        external_variant_id: { ecommerce: COFFEE_250G },
        purchase_item_type: 'subscription',
        price: expected,
        charge_interval_frequency: 1,
        order_interval_frequency: 1,
        order_interval_unit: 'month',
        quantity: 2,
      }),
      expect.objectContaining({
        external_variant_id: { ecommerce: DRIPPER_WHITE },
        purchase_item_type: 'onetime',
        price: '32.00',
        charge_interval_frequency: null,
      }),
    ])
    // The totals are Recharge's.
    expect(created.body.totals).toMatchObject({
      currency: stored?.currency,
      subtotal: stored?.subtotal_price,
      total: stored?.total_price,
    })
    expect(stored?.external_checkout_source).toBe('headless')
  })

  it('refuses a tampered price or interval, and a plan or variant the catalog does not offer, before any upstream call', async () => {
    const before = (await sim.ledger({ method: 'POST', path: '/checkouts' })).length
    const monthly = planId(coffee, 'Every month')
    const line = { external_product_id: COFFEE, external_variant_id: COFFEE_250G, quantity: 1, plan_id: monthly }

    for (const tampered of [
      { ...line, price: '0.01' },
      { ...line, unit_price: '0.01' },
      { ...line, order_interval_frequency: 52, order_interval_unit: 'year' },
      { ...line, charge_interval_frequency: 12 },
    ]) {
      const answer = await api('POST', '/v1/checkouts', { body: { lines: [tampered] } })
      expect(answer.status).toBe(400)
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/)
      expect(answer.body.code).toBe('VALIDATION_FAILED')
    }

    const decafPlan = (await app.catalog.getProduct(DECAF))!.plans.find((plan) => plan.type === 'subscription')!.id
    const wrongPlan = await api('POST', '/v1/checkouts', {
      body: {
        lines: [
          { external_product_id: DRIPPER, external_variant_id: DRIPPER_WHITE, quantity: 1 },
          { ...line, plan_id: decafPlan },
          { ...line, external_variant_id: '999999' },
        ],
      },
    })
    expect(wrongPlan.status).toBe(422)
    expect(wrongPlan.body).toMatchObject({
      code: 'UNPROCESSABLE',
      lines: [1, 2],
      errors: [
        { field: 'body.lines.1.plan_id', message: 'this plan is not offered for this product' },
        { field: 'body.lines.2.external_variant_id', message: 'no such variant of this product' },
      ],
    })

    const unknownProduct = await api('POST', '/v1/checkouts', {
      body: { lines: [{ external_product_id: '424242', external_variant_id: '1', quantity: 1 }] },
    })
    expect(unknownProduct.status).toBe(422)
    expect(unknownProduct.body.errors).toEqual([
      { field: 'body.lines.0.external_product_id', message: 'no such product in the catalog' },
    ])

    expect(await sim.ledger({ method: 'POST', path: '/checkouts' })).toHaveLength(before)
  })
})

describe('the checkout secret', () => {
  it('answers 404 without the creating client’s secret, and never asks Recharge', async () => {
    const mine = await readyCheckout()
    const other = await readyCheckout()
    const path = `/v1/checkouts/${mine.token}`
    const readsBefore = (await sim.ledger({ method: 'GET', path: `/checkouts/${mine.token}` })).length

    const attempts: Record<string, string>[] = [
      {},
      { 'x-checkout-secret': other.secret },
      { 'x-checkout-secret': 'cs1.9999999999.forged' },
    ]
    for (const headers of attempts) {
      const read = await api('GET', path, { headers })
      expect(read.status).toBe(404)
      expect(read.body.code).toBe('NOT_FOUND')
      expect((await api('GET', `${path}/shipping-rates`, { headers })).status).toBe(404)
      expect((await api('PATCH', path, { headers, body: { email: 'thief@example.com' } })).status).toBe(404)
      expect((await charge(mine.token, headers['x-checkout-secret'] ?? '', randomUUID())).status).toBe(404)
    }
    expect(await sim.ledger({ method: 'GET', path: `/checkouts/${mine.token}` })).toHaveLength(readsBefore)
    expect(await chargeCalls(mine.token)).toHaveLength(0)

    const read = await api('GET', path, { headers: { 'x-checkout-secret': mine.secret } })
    expect(read.status).toBe(200)
    expect(read.body).toMatchObject({ token: mine.token, status: 'open', email: mine.email })
    expect(read.body).not.toHaveProperty('checkout_secret')
  })

  it('can be sent from the storefront origin (CORS allows the header)', async () => {
    const preflight = await fetch(`${base}/v1/checkouts/abcdef0123/charge`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,idempotency-key,x-checkout-secret',
      },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://shop.example')
    expect(preflight.headers.get('access-control-allow-headers')).toContain('x-checkout-secret')
  })

  it('lets the owner choose a shipping rate and apply a discount code, with totals recomputed by Recharge', async () => {
    const { token, secret } = await readyCheckout()
    const read = await api('GET', `/v1/checkouts/${token}`, { headers: { 'x-checkout-secret': secret } })
    expect(read.body.shipping_rate).toMatchObject({ handle: expect.any(String), price: expect.any(String) })
    expect((read.body.totals as { shipping: string }).shipping).toBe(
      (read.body.shipping_rate as { price: string }).price,
    )

    const bogus = await api('PATCH', `/v1/checkouts/${token}`, {
      headers: { 'x-checkout-secret': secret },
      body: { discount_code: 'NOPE-NOT-A-CODE' },
    })
    expect(bogus.status).toBe(422)
    expect(bogus.body.code).toBe('UPSTREAM_REJECTED')

    const discounted = await api('PATCH', `/v1/checkouts/${token}`, {
      headers: { 'x-checkout-secret': secret },
      body: { discount_code: 'WELCOME10' },
    })
    expect(discounted.status).toBe(200)
    expect(discounted.body.discount_codes).toEqual(['WELCOME10'])
    const before = read.body.totals as { total: string }
    const after = discounted.body.totals as { total: string }
    expect(Number(after.total)).toBeLessThan(Number(before.total))
    const stored = (await sim.state()).checkouts.find((checkout) => checkout.token === token)
    expect(after.total).toBe(stored?.total_price)

    const priced = await api('PATCH', `/v1/checkouts/${token}`, {
      headers: { 'x-checkout-secret': secret },
      body: { discount_code: null, price: '0.00' },
    })
    expect(priced.status).toBe(400)
  })
})

describe('POST /v1/checkouts/{token}/charge', () => {
  it('requires an Idempotency-Key', async () => {
    const { token, secret } = await readyCheckout()
    const answer = await charge(token, secret, null)
    expect(answer.status).toBe(428)
    expect(answer.body.code).toBe('IDEMPOTENCY_KEY_REQUIRED')
    expect(await chargeCalls(token)).toHaveLength(0)
  })

  it('charges once; a replay with the same key returns the original answer without calling Recharge', async () => {
    const { token, secret } = await readyCheckout()
    const key = randomUUID()
    const first = await charge(token, secret, key, 'tok_visa_never_echoed')
    expect(first.status).toBe(200)
    expect(first.body).toMatchObject({ token, status: 'processed', charge_id: expect.any(String), recovered: false })
    expect(JSON.stringify(first.body)).not.toContain('tok_visa_never_echoed')

    const replay = await charge(token, secret, key, 'tok_visa_never_echoed')
    expect(replay.status).toBe(200)
    expect(replay.body).toEqual(first.body)
    expect(replay.headers.get('idempotent-replayed')).toBe('true')
    expect(await chargeCalls(token)).toHaveLength(1)

    // A new attempt (new key) on a paid checkout: Recharge refuses it, as a code the storefront can act on.
    const again = await charge(token, secret, randomUUID())
    expect(again.status).toBe(422)
    expect(again.body.code).toBe('CHECKOUT_ALREADY_PROCESSED')

    const read = await api('GET', `/v1/checkouts/${token}`, { headers: { 'x-checkout-secret': secret } })
    expect(read.body).toMatchObject({ status: 'processed', completed_at: expect.any(String) })
    const late = await api('PATCH', `/v1/checkouts/${token}`, {
      headers: { 'x-checkout-secret': secret },
      body: { email: 'changed@example.com' },
    })
    expect(late.status).toBe(422)
    expect(late.body.code).toBe('CHECKOUT_ALREADY_PROCESSED')
  })

  it('a double click (two concurrent requests, same key) charges once', async () => {
    const { token, secret, email } = await readyCheckout()
    const key = randomUUID()
    const [first, second] = await whileChargeHeld(
      token,
      () => charge(token, secret, key),
      () => charge(token, secret, key),
    )
    expect(first?.status).toBe(200)
    // The second arrives while the first is still running: it is told so, and not sent.
    expect([second?.status, second?.body.code]).toEqual([409, 'IDEMPOTENCY_KEY_IN_USE'])

    expect(await chargeCalls(token)).toHaveLength(1)
    const state = await sim.state()
    const customer = state.customers.find((candidate) => candidate.email === email)
    expect(state.orders.filter((order) => order.customer.id === customer?.id)).toHaveLength(1)
  })

  it('two concurrent attempts with different keys (two tabs) charge once', async () => {
    const { token, secret, email } = await readyCheckout()
    const answers = await whileChargeHeld(
      token,
      () => charge(token, secret, randomUUID()),
      () => charge(token, secret, randomUUID()),
    )
    const codes = answers.map((answer) => (answer.status === 200 ? 'OK' : answer.body.code)).sort()
    expect(codes).toEqual(['CHECKOUT_IN_PROGRESS', 'OK'])
    // The per-checkout lock kept the second attempt from reaching Recharge at all.
    expect(await chargeCalls(token)).toHaveLength(1)
    const state = await sim.state()
    const customer = state.customers.find((candidate) => candidate.email === email)
    expect(state.charges.filter((row) => row.customer.id === customer?.id && row.status === 'success')).toHaveLength(1)
  })

  it('two replicas charging the same checkout at once send one charge (the lock is shared through Redis)', async () => {
    const { token, secret } = await readyCheckout()
    const replica = await bridge()
    try {
      const pay = (to: string) =>
        api('POST', `/v1/checkouts/${token}/charge`, {
          to,
          headers: { 'x-checkout-secret': secret, 'idempotency-key': randomUUID() },
          body: { payment_processor: 'stripe', payment_token: 'tok_visa' },
        })
      const answers = await whileChargeHeld(
        token,
        () => pay(base),
        () => pay(replica.base),
      )
      const codes = answers.map((answer) => (answer.status === 200 ? 'OK' : answer.body.code)).sort()
      expect(codes).toEqual(['CHECKOUT_IN_PROGRESS', 'OK'])
      expect(await chargeCalls(token)).toHaveLength(1)
    } finally {
      await replica.app.close()
    }
  })

  it('turns a decline and an authentication request into distinct codes; the checkout stays chargeable', async () => {
    const { token, secret } = await readyCheckout()
    const declined = await charge(token, secret, randomUUID(), 'tok_chargeDeclined')
    expect(declined.status).toBe(402)
    expect(declined.body).toMatchObject({ code: 'CARD_DECLINED', decline_code: 'generic_decline' })
    expect(declined.body.detail).toMatch(/another payment method/)

    const sca = await charge(token, secret, randomUUID(), 'tok_authenticationRequired')
    expect(sca.status).toBe(402)
    expect(sca.body.code).toBe('SCA_REQUIRED')

    const paid = await charge(token, secret, randomUUID(), 'tok_visa')
    expect(paid.status).toBe(200)
    expect(await chargeCalls(token)).toHaveLength(3)
  })

  it('reads the checkout back when the answer is lost after Recharge processed it', async () => {
    const { token, secret } = await readyCheckout()
    // Recharge processes the charge, then the response body arrives cut short.
    await sim.setFaults([{ match: { method: 'POST', path: `/checkouts/${token}/charge` }, truncate: true, count: 1 }])
    const answer = await charge(token, secret, randomUUID())
    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({ status: 'processed', recovered: true, charge_id: expect.any(String) })
    expect(await chargeCalls(token)).toHaveLength(1)
    expect(await sim.ledger({ method: 'GET', path: `/checkouts/${token}` })).not.toHaveLength(0)
  })

  it('says the outcome is unknown when neither the charge answer nor the read-back arrives', async () => {
    const { token, secret } = await readyCheckout()
    await sim.setFaults([
      { match: { method: 'POST', path: `/checkouts/${token}/charge` }, truncate: true, count: 1 },
      { match: { method: 'GET', path: `^/checkouts/${token}$` }, status: 503 },
    ])
    const answer = await charge(token, secret, randomUUID())
    await sim.clearFaults()
    expect(answer.status).toBe(502)
    expect(answer.body.code).toBe('CHECKOUT_OUTCOME_UNKNOWN')
    expect(answer.body.detail).toMatch(/Do not ask the shopper to pay again/)
    expect(await chargeCalls(token)).toHaveLength(1)
    // What the storefront is told to do next: read the checkout, which shows the payment went through.
    const read = await api('GET', `/v1/checkouts/${token}`, { headers: { 'x-checkout-secret': secret } })
    expect(read.body.status).toBe('processed')
  })

  it('says it is safe to retry when Recharge failed before charging, and the retry charges once', async () => {
    const { token, secret } = await readyCheckout()
    await sim.setFaults([{ match: { method: 'POST', path: `/checkouts/${token}/charge` }, status: 500, count: 1 }])
    const failed = await charge(token, secret, randomUUID())
    expect(failed.status).toBe(503)
    expect(failed.body.code).toBe('CHECKOUT_NOT_CHARGED')
    expect(failed.headers.get('retry-after')).toBe('2')
    expect(await chargeCalls(token)).toHaveLength(1) // never re-sent by the bridge

    const retried = await charge(token, secret, randomUUID())
    expect(retried.status).toBe(200)
    expect(retried.body).toMatchObject({ status: 'processed', recovered: false })
  })
})

describe('after a processed checkout', () => {
  it('shows the new customer’s subscriptions through the shopper routes at once', async () => {
    const email = freshEmail()
    // The merchant backend looked the buyer up before the purchase: "no such customer" (and the bridge cached that).
    const before = await api('POST', '/v1/admin/customer-tokens', {
      headers: { authorization: `Bearer ${adminKey}` },
      body: { email },
    })
    expect(before.status).toBe(404)

    const { token, secret } = await readyCheckout(email)
    expect((await charge(token, secret, randomUUID())).status).toBe(200)

    const minted = await api('POST', '/v1/admin/customer-tokens', {
      headers: { authorization: `Bearer ${adminKey}` },
      body: { email },
    })
    expect(minted.status).toBe(201)
    const subscriptions = await api('GET', '/v1/subscriptions', {
      headers: { authorization: `Bearer ${minted.body.token as string}` },
    })
    expect(subscriptions.status).toBe(200)
    const rows = (subscriptions.body.subscriptions ?? subscriptions.body.data) as Record<string, unknown>[]
    expect(rows).toHaveLength(1)
    expect(JSON.stringify(rows[0])).toContain(COFFEE_250G)
    expect(rows[0]).toMatchObject({ status: 'active' })
  })
})

describe('rate limits', () => {
  it('limits each client IP on the checkout routes only, with a 429 problem+json', async () => {
    const limited = await bridge({ CHECKOUT_RATE_LIMIT_PER_MINUTE: '6' })
    try {
      const ip = `10.${randomInt(1, 255)}.${randomInt(1, 255)}.${randomInt(1, 255)}`
      const read = () => api('GET', '/v1/checkouts/abcdef0123', { ip, to: limited.base })
      for (let index = 0; index < 6; index += 1) expect((await read()).status).toBe(404)
      const over = await read()
      expect(over.status).toBe(429)
      expect(over.headers.get('content-type')).toMatch(/^application\/problem\+json/)
      expect(over.body).toMatchObject({ code: 'RATE_LIMITED', status: 429, requestId: expect.any(String) })
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0)

      // Another client is not affected, and neither are other routes for this one.
      expect((await api('GET', '/v1/checkouts/abcdef0123', { ip: '192.0.2.77', to: limited.base })).status).toBe(404)
      const elsewhere = await api('GET', '/v1/me', { ip, to: limited.base })
      expect(elsewhere.status).toBe(401)
      expect(elsewhere.headers.get('x-ratelimit-limit')).toBeNull()

      // Charge attempts get the smallest budget (1/6).
      const attempt = () =>
        api('POST', '/v1/checkouts/abcdef0123/charge', {
          ip,
          to: limited.base,
          headers: { 'idempotency-key': randomUUID() },
          body: { payment_processor: 'stripe', payment_token: 'tok_visa' },
        })
      expect((await attempt()).status).toBe(404)
      expect((await attempt()).status).toBe(429)
    } finally {
      await limited.app.close()
    }
  })
})

describe('secrets', () => {
  it('never logs or returns the payment token or the checkout secret, and counts charge outcomes', async () => {
    const lines: string[] = []
    const logStream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk))
        done()
      },
    })
    const logged = await bridge({ LOG_LEVEL: 'trace' }, { logStream })
    try {
      const paymentToken = `tok_canary_${randomBytes(6).toString('hex')}`
      const via = { to: logged.base }
      const created = await api('POST', '/v1/checkouts', {
        ...via,
        body: {
          lines: [{ external_product_id: DRIPPER, external_variant_id: DRIPPER_WHITE, quantity: 1 }],
          email: freshEmail(),
          shipping_address: shippingAddress,
        },
      })
      const token = created.body.token as string
      const secret = created.body.checkout_secret as string
      const headers = { 'x-checkout-secret': secret }
      const rates = await api('GET', `/v1/checkouts/${token}/shipping-rates`, { ...via, headers })
      const handle = (rates.body.shipping_rates as { handle: string }[])[0]!.handle
      await api('PATCH', `/v1/checkouts/${token}`, { ...via, headers, body: { shipping_rate: handle } })
      const pay = (key: string, payment = paymentToken) =>
        api('POST', `/v1/checkouts/${token}/charge`, {
          ...via,
          headers: { ...headers, 'idempotency-key': key },
          body: { payment_processor: 'stripe', payment_token: payment },
        })
      const declined = await pay(randomUUID(), 'tok_chargeDeclined')
      const paid = await pay(randomUUID())
      const again = await pay(randomUUID())
      expect([declined.status, paid.status, again.status]).toEqual([402, 200, 422])

      const everything = [...lines, JSON.stringify([created.body, declined.body, paid.body, again.body])].join('\n')
      expect(lines.length).toBeGreaterThan(0)
      expect(everything).not.toContain(paymentToken)
      expect(lines.join('\n')).not.toContain(secret)
      expect(lines.join('\n')).not.toContain(secret.split('.')[2]!)

      const metrics = await (await fetch(`${logged.base}/metrics`)).text()
      expect(metrics).toMatch(/recharge_bridge_checkout_charges_total\{outcome="processed"\} 1/)
      expect(metrics).toMatch(/recharge_bridge_checkout_charges_total\{outcome="card_declined"\} 1/)
      expect(metrics).toMatch(/recharge_bridge_checkout_charges_total\{outcome="checkout_already_processed"\} 1/)
    } finally {
      await logged.app.close()
    }
  })
})
