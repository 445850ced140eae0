import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importRecordFor, toNdjson } from '../support/import-records.ts'
import { uniquePrefix } from '../support/redis.ts'
import { type ShopperHarness, startShopperHarness } from '../support/shopper-harness.ts'
import type { SimSnapshot } from '../support/simulator.ts'
import { until } from '../support/until.ts'

/**
 * Imports against the simulator over HTTP and real Redis: one record end to end, the same record again (nothing
 * created), each step failing and the retry completing without duplicates, bad records in a run, and the price
 * override policy. Every test uses its own emails and order ids (tests run shuffled against one simulator).
 */
const ADMIN = { authorization: 'Bearer test-admin-key-0123456789abcdef' }
let h: ShopperHarness
let app: FastifyInstance

beforeAll(async () => {
  h = await startShopperHarness('import')
  app = await h.bridge(undefined, { imports: { namespace: h.namespace, leaseMs: 2_000 } })
})
afterAll(async () => h.close())

function importOne(bridge: FastifyInstance, record: unknown) {
  return bridge.inject({
    method: 'POST',
    url: '/v1/admin/imports?wait=true',
    headers: ADMIN,
    payload: record as object,
  })
}

/** Everything the simulator holds for one email: the state is the judge, not the bridge's counts. */
function holdingsOf(state: SimSnapshot, email: string) {
  const customers = state.customers.filter((row) => row.email === email)
  const ids = new Set(customers.map((row) => row.id))
  return {
    customers,
    paymentMethods: state.payment_methods.filter((row) => ids.has(row.customer_id)),
    addresses: state.addresses.filter((row) => ids.has(row.customer_id)),
    subscriptions: state.subscriptions.filter((row) => ids.has(row.customer_id)),
  }
}

function expectOneOfEach(state: SimSnapshot, email: string, subscriptions = 1) {
  const held = holdingsOf(state, email)
  expect(held.customers).toHaveLength(1)
  expect(held.paymentMethods).toHaveLength(1)
  expect(held.addresses).toHaveLength(1)
  expect(held.subscriptions).toHaveLength(subscriptions)
  return held
}

describe('one record with wait=true', () => {
  it('creates the customer, payment method, address and a marked subscription priced from the catalog', async () => {
    const record = importRecordFor({ orderId: 'end-to-end-1', email: 'e2e@example.com', externalCustomerId: 'shop-1' })
    const response = await importOne(app, record)
    expect(response.statusCode).toBe(201)
    const outcome = response.json()
    expect(outcome).toMatchObject({
      status: 'created',
      created: { customer: true, payment_method: true, address: true, subscriptions: 1 },
      // The lookup by external id (no mirror here to vouch that it is new), then four creates.
      calls: 5,
    })
    const held = expectOneOfEach(await h.sim.state(), 'e2e@example.com')
    expect(held.customers[0]?.external_customer_id).toEqual({ ecommerce: 'shop-1' })
    expect(held.paymentMethods[0]).toMatchObject({
      processor_name: 'stripe',
      processor_customer_token: 'cus_e2eexamplecom',
      processor_payment_method_token: 'pm_e2eexamplecom',
    })
    expect(held.addresses[0]).toMatchObject({ payment_method_id: held.paymentMethods[0]?.id, zip: '97201' })
    expect(held.subscriptions[0]).toMatchObject({
      address_id: held.addresses[0]?.id,
      price: '15.30',
      quantity: 2,
      order_interval_unit: 'month',
      properties: [
        { name: '_import_order', value: 'end-to-end-1' },
        { name: '_import_line', value: '0' },
      ],
    })
    expect(String(outcome.subscription_ids[0])).toBe(String(held.subscriptions[0]?.id))
    // Processor tokens go to Recharge and nowhere else.
    expect(response.body).not.toMatch(/cus_|pm_/)
  })
})

describe('a customer whose email changed on the merchant platform', () => {
  it('is found by its external id, not created again under the new email', async () => {
    const first = importRecordFor({ orderId: 'moved-1', email: 'before@example.com', externalCustomerId: 'shop-moved' })
    expect((await importOne(app, first)).statusCode).toBe(201)
    const second = importRecordFor({ orderId: 'moved-2', email: 'after@example.com', externalCustomerId: 'shop-moved' })
    const response = await importOne(app, second)
    expect(response.statusCode).toBe(201)
    expect(response.json()).toMatchObject({ created: { customer: false, subscriptions: 1 } })
    const state = await h.sim.state()
    const customers = state.customers.filter((row) => row.external_customer_id?.ecommerce === 'shop-moved')
    expect(customers.map((row) => row.email)).toEqual(['before@example.com'])
    expect(state.subscriptions.filter((row) => row.customer_id === customers[0]?.id)).toHaveLength(2)
  })
})

describe('two orders of one customer at once', () => {
  it('share one customer, payment method and address, and get a subscription each', async () => {
    const email = 'both-at-once@example.com'
    const answers = await Promise.all(
      ['both-1', 'both-2'].map((orderId) => importOne(app, importRecordFor({ orderId, email }))),
    )
    expect(answers.map((answer) => answer.statusCode)).toEqual([201, 201])
    expectOneOfEach(await h.sim.state(), email, 2)
  })
})

describe('the same record twice', () => {
  it('creates nothing the second time, also from a bridge that lost all its own state', async () => {
    const record = importRecordFor({ orderId: 'twice-1', email: 'twice@example.com' })
    expect((await importOne(app, record)).statusCode).toBe(201)
    const before = (await h.sim.state()).subscriptions.length
    const mark = await h.ledgerLength()
    const again = await importOne(app, record)
    expect(again.statusCode).toBe(200)
    expect(again.json()).toMatchObject({
      status: 'found',
      created: { customer: false, payment_method: false, address: false, subscriptions: 0 },
    })
    // A second deployment with its own (empty) Redis namespace: only Recharge remembers.
    const amnesiac = await h.bridge(undefined, { imports: { namespace: `${h.namespace}lost` } })
    expect((await importOne(amnesiac, record)).statusCode).toBe(200)
    const writes = (await h.sim.ledger()).slice(mark).filter((entry) => entry.method !== 'GET')
    expect(writes.map((entry) => `${entry.method} ${entry.path} ${entry.status}`)).toEqual([
      'POST /customers 422',
      'POST /customers 422',
    ])
    const state = await h.sim.state()
    expect(state.subscriptions.length).toBe(before)
    expectOneOfEach(state, 'twice@example.com')
  })
})

const STEP_OF: Record<string, string> = {
  '/customers': 'customer',
  '/payment_methods': 'payment_method',
  '/addresses': 'address',
  '/subscriptions': 'subscription',
}

/** Poll `read` until `done` holds for its value, and answer that value. */
async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await read()
  await until(async () => {
    value = await read()
    return done(value)
  }, 60_000)
  return value
}

describe('each step failing', () => {
  for (const path of ['/customers', '/payment_methods', '/addresses', '/subscriptions']) {
    it(`POST ${path} applied but its answer lost: the retry finds it and creates nothing twice`, async () => {
      const email = `lost${path.replace(/\W/g, '')}@example.com`
      await h.sim.setFaults([{ match: { method: 'POST', path: `^${path}$` }, truncate: true, count: 1 }])
      const response = await importOne(app, importRecordFor({ orderId: `lost-${path}`, email }))
      await h.sim.clearFaults()
      expect(response.statusCode).toBe(201)
      expectOneOfEach(await h.sim.state(), email)
    })

    it(`POST ${path} refused until the record fails at that step; sending it again completes it`, async () => {
      const email = `down${path.replace(/\W/g, '')}@example.com`
      const record = importRecordFor({ orderId: `down-${path}`, email })
      await h.sim.setFaults([{ match: { method: 'POST', path: `^${path}$` }, status: 500 }])
      const failed = await importOne(app, record)
      await h.sim.clearFaults()
      expect(failed.statusCode).toBe(503)
      expect(failed.json().outcome).toMatchObject({ status: 'failed', step: STEP_OF[path], retryable: true })
      const retried = await importOne(app, record)
      expect(retried.statusCode).toBe(201)
      expectOneOfEach(await h.sim.state(), email)
    })
  }
})

describe('a run of many records', () => {
  it('reports bad records (unknown variant, invalid address, missing processor token, not JSON) and imports the rest', async () => {
    const good = importRecordFor({ orderId: 'run-good-1', email: 'run-good-1@example.com' })
    const unknownVariant = importRecordFor({
      orderId: 'run-bad-variant',
      email: 'run-bad-variant@example.com',
      lines: [
        {
          external_product_id: '7100000001',
          external_variant_id: '999',
          quantity: 1,
          frequency: { unit: 'month', every: 1 },
        },
      ],
    })
    const badAddress = importRecordFor({
      orderId: 'run-bad-address',
      email: 'run-bad-address@example.com',
      shipping: { country_code: 'Narnia' },
    })
    const noToken = importRecordFor({
      orderId: 'run-no-token',
      email: 'run-no-token@example.com',
      paymentMethod: { processor_payment_method_token: undefined },
    })
    const good2 = importRecordFor({ orderId: 'run-good-2', email: 'run-good-2@example.com' })
    const pastCharge = {
      ...importRecordFor({ orderId: 'run-past', email: 'run-past@example.com' }),
      first_charge_date: '2020-01-01',
    }
    const response = await app.inject({
      method: 'POST',
      url: '/v1/admin/imports',
      headers: { ...ADMIN, 'content-type': 'application/x-ndjson' },
      payload: toNdjson([good, unknownVariant, badAddress, '{not json', noToken, good2, pastCharge]),
    })
    expect(response.statusCode).toBe(202)
    const { id } = response.json()
    expect(response.headers.location).toBe(`/v1/admin/imports/${id}`)
    const run = await waitFor(
      async () => (await app.inject({ method: 'GET', url: `/v1/admin/imports/${id}`, headers: ADMIN })).json(),
      (body) => body.state === 'done',
    )
    expect(run).toMatchObject({ total: 7, done: 7, created: 2, found: 0, failed: 5, customers_created: 2 })
    expect(
      run.failures.map((failure: { index: number; step: string; code: string }) => [
        failure.index,
        failure.step,
        failure.code,
      ]),
    ).toEqual([
      [1, 'validate', 'UNKNOWN_VARIANT'],
      [2, 'validate', 'INVALID_RECORD'],
      [3, 'validate', 'INVALID_RECORD'],
      [4, 'validate', 'INVALID_RECORD'],
      [6, 'validate', 'INVALID_RECORD'],
    ])
    expect(run.failures[1].message).toContain('shipping_address.country_code')
    expect(run.failures[3].message).toContain('payment_method.processor_payment_method_token')
    // A finished run keeps its report, not its records (they hold processor tokens).
    const keys: string[] = []
    for await (const batch of h.redis.scanIterator({ MATCH: `*{import:${id}}*`, COUNT: 100 })) keys.push(...batch)
    expect(keys.some((key) => key.endsWith(':records'))).toBe(false)
    expect(keys.some((key) => key.endsWith(':counts'))).toBe(true)
    const state = await h.sim.state()
    expectOneOfEach(state, 'run-good-1@example.com')
    expectOneOfEach(state, 'run-good-2@example.com')
    expect(holdingsOf(state, 'run-bad-variant@example.com').customers).toHaveLength(0)
    expect(holdingsOf(state, 'run-past@example.com').customers).toHaveLength(0)
    const metrics = await app.inject({ method: 'GET', url: '/metrics' })
    const failedAtValidate = metrics.body.match(
      /recharge_bridge_import_records_total\{outcome="failed",step="validate"\} (\d+)/,
    )
    expect(Number(failedAtValidate?.[1])).toBeGreaterThanOrEqual(5)
  })

  it('pauses (records in flight finish, no new one starts) and resumes to the end', async () => {
    const records = [1, 2, 3, 4, 5, 6].map((n) =>
      importRecordFor({ orderId: `pause-${n}`, email: `pause-${n}@example.com` }),
    )
    await h.sim.setFaults([{ match: { method: 'POST', path: '^/customers$' }, gate: 'import-pause' }])
    const response = await app.inject({ method: 'POST', url: '/v1/admin/imports', headers: ADMIN, payload: records })
    const { id } = response.json()
    await until(async () => (await h.sim.heldAt('import-pause')) > 0)
    const paused = await app.inject({ method: 'POST', url: `/v1/admin/imports/${id}/pause`, headers: ADMIN })
    expect(paused.json().state).toBe('paused')
    await h.sim.openGate('import-pause')
    await app.imports.settled(id)
    await h.sim.clearFaults()
    const halted = (await app.inject({ method: 'GET', url: `/v1/admin/imports/${id}`, headers: ADMIN })).json()
    expect(halted.state).toBe('paused')
    expect(halted.done).toBeLessThan(6)
    await app.inject({ method: 'POST', url: `/v1/admin/imports/${id}/resume`, headers: ADMIN })
    const finished = await waitFor(
      async () => (await app.inject({ method: 'GET', url: `/v1/admin/imports/${id}`, headers: ADMIN })).json(),
      (body) => body.state === 'done',
    )
    expect(finished).toMatchObject({ done: 6, created: 6, failed: 0 })
    const state = await h.sim.state()
    for (let n = 1; n <= 6; n += 1) expectOneOfEach(state, `pause-${n}@example.com`)
  })

  it('refuses an empty run, wait=true with several records and a body that is not JSON, as 400 problems', async () => {
    const record = importRecordFor({ orderId: 'refused-1', email: 'refused@example.com' })
    const cases = [
      { url: '/v1/admin/imports', payload: '[]', type: 'application/json' },
      { url: '/v1/admin/imports?wait=true', payload: JSON.stringify([record, record]), type: 'application/json' },
      { url: '/v1/admin/imports', payload: '{"external_order_id": ', type: 'application/json' },
      { url: '/v1/admin/imports', payload: '"a string"', type: 'application/json' },
    ]
    for (const { url, payload, type } of cases) {
      const response = await app.inject({ method: 'POST', url, headers: { ...ADMIN, 'content-type': type }, payload })
      expect(response.statusCode, payload).toBe(400)
      expect(response.headers['content-type']).toContain('application/problem+json')
    }
    expect(holdingsOf(await h.sim.state(), 'refused@example.com').customers).toHaveLength(0)
  })

  it('answers 404 for an unknown run and 401 without the admin key', async () => {
    const missing = await app.inject({
      method: 'GET',
      url: '/v1/admin/imports/00000000-0000-4000-8000-000000000000',
      headers: ADMIN,
    })
    expect(missing.statusCode).toBe(404)
    const anonymous = await app.inject({ method: 'POST', url: '/v1/admin/imports', payload: [] })
    expect(anonymous.statusCode).toBe(401)
  })
})

describe('price override', () => {
  const priced = (orderId: string, email: string) =>
    importRecordFor({
      orderId,
      email,
      lines: [
        {
          external_product_id: '7100000001',
          external_variant_id: '7200000011',
          quantity: 1,
          frequency: { unit: 'month', every: 1 },
          price: '9.99',
        },
      ],
    })

  it('is refused unless the policy allows it, and then sets the subscription price', async () => {
    const refused = await importOne(app, priced('price-1', 'price-refused@example.com'))
    expect(refused.statusCode).toBe(422)
    expect(refused.json().outcome).toMatchObject({ step: 'validate', code: 'PRICE_OVERRIDE_REFUSED' })
    expect(holdingsOf(await h.sim.state(), 'price-refused@example.com').customers).toHaveLength(0)

    const lenient = await h.bridge({ imports: { allow_price_override: true } }, { imports: { namespace: h.namespace } })
    const allowed = await importOne(lenient, priced('price-2', 'price-allowed@example.com'))
    expect(allowed.statusCode).toBe(201)
    const held = expectOneOfEach(await h.sim.state(), 'price-allowed@example.com')
    expect(held.subscriptions[0]?.price).toBe('9.99')
  })
})

describe('with the account mirror on', () => {
  it('reads a customer the mirror knows instead of creating it first (one call fewer)', async () => {
    const namespace = `${h.namespace}mirror-`
    const mirrored = await h.bridge(
      undefined,
      {
        backgroundWorkers: true,
        webhooks: { keyPrefix: uniquePrefix('import-mirror-webhooks'), watchdog: false },
        mirror: { namespace, sync: true, tickMs: 50, statusMs: 50 },
        imports: { namespace },
      },
      { RECHARGE_WEBHOOK_SECRET: h.sim.clientSecret, MIRROR: 'on', MIRROR_RECONCILE_SECONDS: '3600' },
    )
    await until(
      async () =>
        (await mirrored.inject({ method: 'GET', url: '/v1/admin/mirror', headers: ADMIN })).json().state === 'ready',
      30_000,
    )
    const mark = await h.ledgerLength()
    const response = await importOne(mirrored, importRecordFor({ orderId: 'mirror-1', email: 'alice@example.com' }))
    expect(response.statusCode).toBe(201)
    expect(response.json()).toMatchObject({
      created: { customer: false, payment_method: true, address: true, subscriptions: 1 },
      calls: 4,
    })
    const calls = (await h.sim.ledger()).slice(mark)
    expect(calls.filter((entry) => entry.method === 'POST' && entry.path === '/customers')).toEqual([])
    expect(holdingsOf(await h.sim.state(), 'alice@example.com').customers).toHaveLength(1)
  })
})
