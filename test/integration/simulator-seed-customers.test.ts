import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startEmbeddedSimulator } from '../../src/simulator/embedded.ts'
import { resolveOptions, simulatorOptionsFromEnv } from '../../src/simulator/options.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * SIM_SEED_CUSTOMERS: generated shoppers in 2021-11 shapes, paged completely through cursors, found by email, the
 * same for the same SIM_SEED. Over HTTP, with a bucket large enough that paging never waits.
 */
const COUNT = 600
const HAND_WRITTEN = 6 // alice … frank
const OPTIONS = { seed: 'seed-customers-test', seedCustomers: COUNT, bucketSize: 100_000, leakRate: 1000 }

let sim: TestSimulator
let twin: TestSimulator

beforeAll(async () => {
  ;[sim, twin] = await Promise.all([startTestSimulator(OPTIONS), startTestSimulator(OPTIONS)])
})
afterAll(async () => {
  await Promise.all([sim.close(), twin.close()])
})
// Two tests change records (an email, a next date): every test starts from the seeded store, in any order.
beforeEach(async () => {
  await sim.reset()
})

// biome-ignore lint/suspicious/noExplicitAny: Recharge records; each test asserts the fields it needs
type Json = any

async function get(target: TestSimulator, path: string): Promise<Json> {
  const response = await target.api('GET', path)
  expect(response.status, path).toBe(200)
  return response.body
}

/** Every record of a list, following `next_cursor` at `limit`; fails on a repeated id. */
async function pageAll(target: TestSimulator, path: string, key: string, limit = 250): Promise<Json[]> {
  const records: Json[] = []
  const separator = path.includes('?') ? '&' : '?'
  let body = await get(target, `${path}${separator}limit=${limit}`)
  for (;;) {
    expect(body[key].length).toBeLessThanOrEqual(limit)
    records.push(...body[key])
    if (!body.next_cursor) break
    body = await get(target, `${path.split('?')[0]}?limit=${limit}&cursor=${body.next_cursor}`)
  }
  expect(new Set(records.map((record) => record.id)).size).toBe(records.length)
  return records
}

async function customerByEmail(target: TestSimulator, email: string): Promise<Json> {
  const { customers } = await get(target, `/customers?email=${encodeURIComponent(email)}`)
  expect(customers).toHaveLength(1)
  return customers[0]
}

describe('SIM_SEED_CUSTOMERS', () => {
  it('adds n shoppers with unique generated emails, every one reachable through the cursors', async () => {
    const customers = await pageAll(sim, '/customers', 'customers')
    expect(customers).toHaveLength(HAND_WRITTEN + COUNT)
    const generated = customers.filter((customer) => customer.email.endsWith('@generated.example'))
    expect(generated.map((customer) => customer.email).sort()).toEqual(
      Array.from({ length: COUNT }, (_, index) => `shopper${index + 1}@generated.example`).sort(),
    )
    expect(new Set(generated.map((customer) => customer.external_customer_id.ecommerce)).size).toBe(COUNT)
    // Another sort and page size, then back from the last page through `previous_cursor`: the same records.
    const ascending = await pageAll(sim, '/customers?sort_by=id-asc', 'customers', 97)
    const ids = customers.map((customer) => customer.id).sort((a, b) => a - b)
    expect(ascending.map((customer) => customer.id)).toEqual(ids)
    let page = await get(sim, '/customers?sort_by=id-asc&limit=97')
    while (page.next_cursor) page = await get(sim, `/customers?limit=97&cursor=${page.next_cursor}`)
    const backwards: number[] = page.customers.map((customer: Json) => customer.id)
    while (page.previous_cursor) {
      page = await get(sim, `/customers?limit=97&cursor=${page.previous_cursor}`)
      backwards.unshift(...page.customers.map((customer: Json) => customer.id))
    }
    expect(backwards).toEqual(ids)
  })

  it('pages every address, subscription and charge of the store, as many as the state holds', async () => {
    const state = await sim.state()
    const addresses = await pageAll(sim, '/addresses', 'addresses')
    const subscriptions = await pageAll(sim, '/subscriptions', 'subscriptions')
    const charges = await pageAll(sim, '/charges', 'charges')
    const queued = await pageAll(sim, '/charges?status=queued', 'charges')
    const since = await pageAll(sim, '/subscriptions?updated_at_min=2000-01-01', 'subscriptions', 250)
    expect(addresses).toHaveLength(state.addresses.length)
    expect(subscriptions).toHaveLength(state.subscriptions.length)
    expect(since).toHaveLength(state.subscriptions.length)
    expect(charges).toHaveLength(state.charges.length)
    expect(queued).toHaveLength(state.charges.filter((charge) => charge.status === 'queued').length)
    expect(addresses.length).toBeGreaterThanOrEqual(COUNT)
    expect(subscriptions.length).toBeGreaterThanOrEqual(COUNT)
    expect(queued.length).toBeGreaterThanOrEqual(COUNT)
  })

  it('gives each shopper a card, a US address, 1–3 subscriptions on catalog plans and their queued charges', async () => {
    const today = (await sim.state()).now.slice(0, 10)
    const { plans } = await get(sim, '/plans?limit=250')
    for (const n of [1, 2, 3, 250, COUNT]) {
      const customer = await customerByEmail(sim, `shopper${n}@generated.example`)
      expect(customer).toMatchObject({
        email: `shopper${n}@generated.example`,
        external_customer_id: { ecommerce: expect.stringMatching(/^\d+$/) },
        first_name: expect.any(String),
        last_name: expect.any(String),
        hash: expect.stringMatching(/^[0-9a-f]{30}$/),
        has_valid_payment_method: true,
        has_payment_method_in_dunning: false,
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/),
      })
      expect(customer.updated_at >= customer.created_at).toBe(true)

      const { payment_methods: methods } = await get(sim, `/payment_methods?customer_id=${customer.id}`)
      expect(methods).toHaveLength(1)
      expect(methods[0]).toMatchObject({ customer_id: customer.id, default: true, status: 'valid' })

      const { addresses } = await get(sim, `/addresses?customer_id=${customer.id}`)
      expect(addresses).toHaveLength(1)
      const [address] = addresses
      expect(address).toMatchObject({
        customer_id: customer.id,
        payment_method_id: methods[0].id,
        address1: expect.stringMatching(/^\d+ \w/),
        city: expect.any(String),
        province: expect.any(String),
        zip: expect.stringMatching(/^\d{5}$/),
        country_code: 'US',
        first_name: customer.first_name,
        last_name: customer.last_name,
      })

      const { subscriptions } = await get(sim, `/subscriptions?customer_id=${customer.id}`)
      expect(subscriptions.length).toBeGreaterThanOrEqual(1)
      expect(subscriptions.length).toBeLessThanOrEqual(3)
      expect(customer.subscriptions_total_count).toBe(subscriptions.length)
      const active = subscriptions.filter((sub: Json) => sub.status === 'active')
      expect(active.length).toBeGreaterThanOrEqual(1)
      expect(customer.subscriptions_active_count).toBe(active.length)
      for (const subscription of subscriptions) await expectCatalogSubscription(subscription, plans, address.id)
      for (const subscription of active) {
        expect(subscription.next_charge_scheduled_at > today).toBe(true)
        expect(subscription.has_queued_charges).toBe(true)
      }

      const { charges } = await get(sim, `/charges?customer_id=${customer.id}&status=queued`)
      const dates = [...new Set(active.map((sub: Json) => sub.next_charge_scheduled_at))].sort()
      expect(charges.map((charge: Json) => charge.scheduled_at).sort()).toEqual(dates)
      for (const charge of charges) {
        const due = active.filter((sub: Json) => sub.next_charge_scheduled_at === charge.scheduled_at)
        expect(charge).toMatchObject({
          address_id: address.id,
          customer: { id: customer.id, email: customer.email, hash: customer.hash },
          status: 'queued',
          type: 'recurring',
          shipping_address: { address1: address.address1, zip: address.zip, country_code: 'US' },
        })
        expect(charge.line_items.map((item: Json) => item.purchase_item_id).sort()).toEqual(
          due.map((sub: Json) => sub.id).sort(),
        )
        const cents = (money: string) => Math.round(Number(money) * 100)
        for (const item of charge.line_items) {
          const sub = due.find((candidate: Json) => candidate.id === item.purchase_item_id)
          expect(item).toMatchObject({ purchase_item_type: 'subscription', quantity: sub.quantity })
          expect(item.unit_price).toBe(sub.price)
          expect(cents(item.total_price)).toBe(cents(sub.price) * sub.quantity)
        }
        const sum = charge.line_items.reduce((total: number, item: Json) => total + cents(item.total_price), 0)
        expect(cents(charge.total_price)).toBe(sum)
      }
    }
  })

  it('finds a shopper by email (any case) and by external id, and keeps the email index right on changes', async () => {
    const customer = await customerByEmail(sim, 'SHOPPER17@Generated.Example')
    expect(customer.email).toBe('shopper17@generated.example')
    const byExternal = await get(sim, `/customers?external_customer_id=${customer.external_customer_id.ecommerce}`)
    expect(byExternal.customers.map((found: Json) => found.id)).toEqual([customer.id])
    expect((await get(sim, '/customers?email=nobody@generated.example')).customers).toEqual([])

    const taken = await sim.api('POST', '/customers', {
      email: 'shopper18@generated.example',
      first_name: 'Copy',
      last_name: 'Cat',
    })
    expect(taken.status).toBe(422)
    expect(taken.body).toEqual({ errors: { email: 'email already exists on store' } })

    const renamed = await sim.api('PUT', `/customers/${customer.id}`, { email: 'renamed17@example.com' })
    expect(renamed.status).toBe(200)
    expect((await get(sim, '/customers?email=shopper17@generated.example')).customers).toEqual([])
    expect((await customerByEmail(sim, 'renamed17@example.com')).id).toBe(customer.id)
    const clash = await sim.api('PUT', `/customers/${customer.id}`, { email: 'shopper19@generated.example' })
    expect(clash.status).toBe(422)
  })

  it('takes writes on a generated shopper: a new next date moves the queued charge', async () => {
    const customer = await customerByEmail(twin, 'shopper42@generated.example')
    const { subscriptions } = await get(twin, `/subscriptions?customer_id=${customer.id}&status=active`)
    const subscription = subscriptions[0]
    const date = new Date(Date.parse(`${subscription.next_charge_scheduled_at}T00:00:00Z`) + 60 * 86_400_000)
      .toISOString()
      .slice(0, 10)
    const moved = await twin.api('POST', `/subscriptions/${subscription.id}/set_next_charge_date`, { date })
    expect(moved.status).toBe(200)
    const { charges } = await get(twin, `/charges?purchase_item_id=${subscription.id}&status=queued`)
    expect(charges.map((charge: Json) => charge.scheduled_at)).toEqual([date])
    await twin.reset()
  })
})

describe('SIM_SEED_CUSTOMERS determinism', () => {
  it('gives the same records and ids for the same SIM_SEED, and leaves the hand-written data set alone', async () => {
    await twin.reset()
    for (const n of [5, 333]) {
      const email = `shopper${n}@generated.example`
      const [ours, theirs] = [await customerByEmail(sim, email), await customerByEmail(twin, email)]
      expect(theirs).toEqual(ours)
      for (const path of ['/addresses', '/subscriptions', '/charges', '/payment_methods']) {
        expect(await get(twin, `${path}?customer_id=${ours.id}`)).toEqual(
          await get(sim, `${path}?customer_id=${ours.id}`),
        )
      }
    }
    const ids = (target: TestSimulator) =>
      pageAll(target, '/subscriptions', 'subscriptions').then((subs) => subs.map((sub) => [sub.id, sub.price]))
    expect(await ids(twin)).toEqual(await ids(sim))

    const plain = await startTestSimulator({ seed: OPTIONS.seed })
    const other = await startTestSimulator({ ...OPTIONS, seed: 'another-seed' })
    try {
      const alice = await customerByEmail(plain, 'alice@example.com')
      const seededAlice = await customerByEmail(sim, 'alice@example.com')
      expect({ id: seededAlice.id, hash: seededAlice.hash }).toEqual({ id: alice.id, hash: alice.hash })
      const plainState = await plain.state()
      expect(plainState.customers).toHaveLength(HAND_WRITTEN)
      expect((await customerByEmail(other, 'shopper5@generated.example')).hash).not.toBe(
        (await customerByEmail(sim, 'shopper5@generated.example')).hash,
      )
    } finally {
      await Promise.all([plain.close(), other.close()])
    }
  })
})

describe('configuration', () => {
  it('reads SIM_SEED_CUSTOMERS, refuses what is not a count, and takes `customers` in the embedded simulator', async () => {
    expect(simulatorOptionsFromEnv({ SIM_SEED_CUSTOMERS: '25' }).seedCustomers).toBe(25)
    expect(resolveOptions({}).seedCustomers).toBe(0)
    expect(() => simulatorOptionsFromEnv({ SIM_SEED_CUSTOMERS: 'lots' })).toThrow(/SIM_SEED_CUSTOMERS/)
    expect(() => resolveOptions({ seedCustomers: 2.5 })).toThrow(/SIM_SEED_CUSTOMERS/)
    expect(() => resolveOptions({ seedCustomers: 1_000_000 })).toThrow(/SIM_SEED_CUSTOMERS/)

    const embedded = await startEmbeddedSimulator({ customers: 3 })
    try {
      const headers = { 'x-recharge-access-token': embedded.apiToken }
      const found = await fetch(`${embedded.url}/customers?email=shopper3@generated.example`, { headers })
      expect((await found.json()).customers).toHaveLength(1)
      const missing = await fetch(`${embedded.url}/customers?email=shopper4@generated.example`, { headers })
      expect((await missing.json()).customers).toHaveLength(0)
    } finally {
      await embedded.close()
    }
  })
})

describe('standalone process', () => {
  const root = new URL('../../', import.meta.url).pathname
  const run = (args: string[], env: Record<string, string>) =>
    spawn(process.execPath, args, { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'pipe' })
  const output = (child: ChildProcess) => {
    let text = ''
    child.stdout?.on('data', (chunk) => {
      text += chunk
    })
    child.stderr?.on('data', (chunk) => {
      text += chunk
    })
    return () => text
  }

  it('seeds `recharge-bridge simulator --seed-customers <n>` and says so when it starts', async () => {
    const child = run(['src/cli.ts', 'simulator', '--port', '0', '--seed-customers', '2'], {})
    const text = output(child)
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout?.on('data', () => {
          const match = /listening on (http:\/\/\S+)/.exec(text())
          if (match && text().includes('generated customers')) resolve(match[1] as string)
        })
        child.once('exit', () => reject(new Error(`simulator exited: ${text()}`)))
      })
      expect(text()).toContain('2 generated customers')
      const headers = { 'x-recharge-access-token': 'sk_test_simulator' }
      const found = await fetch(`${url}/customers?email=shopper2@generated.example`, { headers })
      expect((await found.json()).customers).toHaveLength(1)
    } finally {
      child.kill('SIGTERM')
    }
  })

  it('refuses to start on a SIM_SEED_CUSTOMERS that is not a count', async () => {
    const child = run(['src/simulator/server.ts'], { SIM_PORT: '0', SIM_SEED_CUSTOMERS: 'many' })
    const text = output(child)
    const [code] = await once(child, 'exit')
    expect(code).toBe(78)
    expect(text()).toMatch(/SIM_SEED_CUSTOMERS must be a (number|whole number)/)
  })
})

/** The subscription sits on a plan of its product with the plan's interval, at the variant's discounted price. */
async function expectCatalogSubscription(subscription: Json, plans: Json[], addressId: number): Promise<void> {
  expect(subscription.address_id).toBe(addressId)
  const product = (await get(sim, `/products/${subscription.external_product_id.ecommerce}`)).product
  const variant = product.variants.find(
    (candidate: Json) => candidate.external_variant_id === subscription.external_variant_id.ecommerce,
  )
  expect(variant, `variant ${subscription.external_variant_id.ecommerce}`).toBeDefined()
  expect(subscription).toMatchObject({ product_title: product.title, variant_title: variant.title, is_prepaid: false })
  const plan = plans.find(
    (candidate: Json) =>
      candidate.type === 'subscription' &&
      candidate.external_product_id.ecommerce === product.external_product_id &&
      candidate.subscription_preferences.charge_interval_frequency === subscription.charge_interval_frequency &&
      candidate.subscription_preferences.order_interval_frequency === subscription.order_interval_frequency &&
      candidate.subscription_preferences.interval_unit === subscription.order_interval_unit,
  )
  expect(plan, `a plan of ${product.title} every ${subscription.charge_interval_frequency}`).toBeDefined()
  const unit = Math.round(Number(variant.prices.unit_price) * 100)
  const expected = Math.round((unit * (100 - Number(plan.discount_amount))) / 100)
  expect(Math.round(Number(subscription.price) * 100)).toBe(expected)
  if (subscription.status === 'cancelled') {
    expect(subscription).toMatchObject({ next_charge_scheduled_at: null, cancelled_at: expect.any(String) })
  }
}
