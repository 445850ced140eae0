import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { testConfig } from '../support/config.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * With the demo storefront on against a simulator (the compose `demo` profile; demo mode is the same), the hosted
 * portal and checkout links point at the bridge's PUBLIC_URL, and the bridge answers them with the simulator's
 * stand-in pages: a shopper's browser often cannot reach the simulator itself (a compose service name, or the
 * embedded simulator on a container's loopback).
 */
const PUBLIC_URL = 'http://localhost:3001'

let sim: TestSimulator
let app: FastifyInstance

beforeAll(async () => {
  sim = await startTestSimulator()
  app = await buildApp(
    testConfig({
      RECHARGE_API_URL: sim.url,
      RECHARGE_API_TOKEN: sim.apiToken,
      RECHARGE_BUCKET_SIZE: '1000',
      RECHARGE_LEAK_RATE: '1000',
      DEMO_STOREFRONT: 'true',
      PUBLIC_URL,
    }),
    { redis: null, backgroundWorkers: false },
  )
  await app.ready()
})

afterAll(async () => {
  await app?.close()
  await sim?.close()
})

async function shopperToken(email: string): Promise<string> {
  const minted = await app.inject({
    method: 'POST',
    url: '/v1/admin/customer-tokens',
    headers: { authorization: `Bearer ${app.config.ADMIN_API_KEY}` },
    payload: { email },
  })
  expect(minted.statusCode).toBe(201)
  return minted.json().token
}

/** What the browser gets when it opens `url` (which must be under the bridge's PUBLIC_URL). */
async function open(url: string) {
  expect(url.startsWith(`${PUBLIC_URL}/`)).toBe(true)
  return app.inject({ method: 'GET', url: url.slice(PUBLIC_URL.length) })
}

describe('hosted pages through the bridge, with a simulator standing in for Recharge', () => {
  it('links the portal under PUBLIC_URL and answers it with the stand-in portal of that customer', async () => {
    const { customers } = await sim.state()
    const customer = customers[0]
    if (!customer) throw new Error('the simulator has no customers')
    const token = await shopperToken(customer.email)
    const portal = await app.inject({
      method: 'GET',
      url: '/v1/portal/url',
      headers: { authorization: `Bearer ${token}` },
    })
    expect(portal.statusCode).toBe(200)
    const { url } = portal.json() as { url: string }
    expect(url).toBe(`${PUBLIC_URL}/portal/${customer.hash}/subscriptions`)

    const page = await open(url)
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toContain('text/html')
    expect(page.headers['cache-control']).toBe('no-store')
    expect(page.headers['referrer-policy']).toBe('no-referrer')
    expect(page.headers['content-security-policy']).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    )
    expect(page.body).toContain('Recharge customer portal (simulator)')
    expect(page.body).toContain(`Subscriptions of ${customer.first_name} ${customer.last_name}`)
  })

  it('links a checkout under PUBLIC_URL and answers it with the stand-in checkout page', async () => {
    const created = await sim.api('POST', '/checkouts', {
      checkout: {
        line_items: [
          {
            external_product_id: { ecommerce: '7100000004' },
            external_variant_id: { ecommerce: '7200000041' },
            quantity: 1,
          },
        ],
      },
    })
    expect(created.status).toBe(201)
    const token = created.body.checkout.token as string

    const page = await open(`${PUBLIC_URL}/r/checkout/${token}`)
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('Recharge checkout (simulator)')
  })

  it("relays the stand-in's 404 for an unknown link, and refuses a malformed one before asking", async () => {
    const unknown = await app.inject({ method: 'GET', url: '/portal/no-such-customer-hash/subscriptions' })
    expect(unknown.statusCode).toBe(404)
    expect(unknown.body).toContain('Customer portal not found')

    const malformed = await app.inject({ method: 'GET', url: '/r/checkout/..%2F__sim%2Fstate' })
    expect(malformed.statusCode).toBe(400)
    expect(malformed.headers['content-type']).toContain('application/problem+json')
  })
})
