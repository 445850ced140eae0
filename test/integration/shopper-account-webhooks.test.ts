import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ShopperHarness, startShopperHarness } from '../support/shopper-harness.ts'
import { until } from '../support/until.ts'

/**
 * A change made in Recharge itself (here: straight in the simulator) reaches the account routes on the next read:
 * the simulator delivers its signed webhooks to the listening bridge, which drops the tagged cache entries. The
 * cached lists live 30 s, so the polls below (bounded well under that) only succeed through the webhooks.
 */
const clientSecret = 'sim_whsec_account_0001'
/** Well under the lists' 30 s lifetime: passing proves the webhook dropped the entry, not its expiry. */
const WITHIN_MS = 10_000

const TOPICS = ['customer/updated', 'address/created', 'address/updated', 'order/created', 'charge/paid']

let h: ShopperHarness
let bridge: FastifyInstance

const token = (email: string) => h.mint(bridge, email)

async function read(shopper: string, url: string) {
  const response = await h.call(bridge, shopper, 'GET', url)
  expect(response.statusCode).toBe(200)
  return response.json()
}

beforeAll(async () => {
  h = await startShopperHarness('acctwh', { clientSecret, addressWriteWindowMs: 0 })
  bridge = await h.bridge(
    undefined,
    {
      backgroundWorkers: true,
      // Under the harness's namespace, so close() removes the queue's keys too.
      webhooks: { keyPrefix: `rb:${h.namespace}webhooks`, blockMs: 100, watchdog: false },
    },
    { RECHARGE_WEBHOOK_SECRET: clientSecret },
  )
  const url = await h.listen(bridge)
  for (const topic of TOPICS) {
    const created = await h.sim.api('POST', '/webhooks', {
      webhook: { address: `${url}/v1/webhooks/recharge?topic=${topic}`, topic },
    })
    expect(created.status).toBe(201)
  }
}, 60_000)

afterAll(async () => {
  await h?.close()
})

describe('account reads after changes made in Recharge', () => {
  it('customer/updated: a new name shows on GET /v1/me', async () => {
    const frank = await token('frank@example.com')
    expect((await read(frank, '/v1/me')).first_name).toBe('Frank')
    const state = await h.sim.state()
    const customer = state.customers.find((row) => row.email === 'frank@example.com')
    expect((await h.sim.api('PUT', `/customers/${customer?.id}`, { first_name: 'Francis' })).status).toBe(200)
    await until(async () => (await read(frank, '/v1/me')).first_name === 'Francis', WITHIN_MS, 'the new name')
  })

  it('address/created: a new address shows in the list and under the card that pays for it', async () => {
    const erin = await token('erin@example.com')
    const before = (await read(erin, '/v1/addresses')).addresses.length
    const methods = (await read(erin, '/v1/payment-methods')).payment_methods
    const state = await h.sim.state()
    const customer = state.customers.find((row) => row.email === 'erin@example.com')
    const created = await h.sim.api('POST', '/addresses', {
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
    const state = await h.sim.state()
    const customer = state.customers.find((row) => row.email === 'alice@example.com')
    const queued = state.charges.find((row) => row.customer.id === customer?.id && row.status === 'queued')
    expect((await h.sim.api('POST', `/charges/${queued?.id}/process`)).status).toBe(200)
    const order = (await h.sim.state()).orders.find((row) => row.charge.id === queued?.id)
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
