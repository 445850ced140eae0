import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { portalPages } from '../../src/shopper/account-schemas.ts'
import { testConfig } from '../support/config.ts'
import { type ShopperHarness, startShopperHarness } from '../support/shopper-harness.ts'

/** Deep links into the hosted portal: POST /v1/portal/links and GET /v1/portal/url open the page asked for. */
let h: ShopperHarness
let app: FastifyInstance
let frank: string
let hash: string

beforeAll(async () => {
  h = await startShopperHarness('portalpages', { addressWriteWindowMs: 0 })
  app = await h.bridge()
  frank = await h.mint(app, 'frank@example.com')
  const customerId = await h.customerId('frank@example.com')
  hash = String((await h.sim.state()).customers.find((row) => String(row.id) === customerId)?.hash)
})

afterAll(async () => {
  await h?.close()
})

const portal = (page: string) => `https://${h.sim.storeSubdomain}.admin.rechargeapps.com/portal/${hash}/${page}`

describe('portal deep links', () => {
  it('a single-use link opens each page of the hosted portal, subscriptions by default', async () => {
    for (const page of [...portalPages, undefined]) {
      const link = await h.call(app, frank, 'POST', '/v1/portal/links', page ? { page } : undefined)
      expect(link.statusCode).toBe(200)
      const url = new URL(link.json().url)
      // The page is not in the link: only the random token, which stands for the shopper and the page.
      expect(url.search).toMatch(/^\?token=[\w-]{43}$/)
      const redirect = await app.inject({ method: 'GET', url: url.pathname + url.search })
      expect(redirect.statusCode).toBe(302)
      expect(redirect.headers.location).toBe(portal(page ?? 'subscriptions'))
    }
  })

  it('GET /v1/portal/url takes ?page= too', async () => {
    const response = await h.call(app, frank, 'GET', '/v1/portal/url?page=payment_methods')
    expect(response.json()).toEqual({ url: portal('payment_methods') })
  })

  it('refuses an unknown page with 400', async () => {
    expect((await h.call(app, frank, 'POST', '/v1/portal/links', { page: 'settings' })).statusCode).toBe(400)
    expect((await h.call(app, frank, 'POST', '/v1/portal/links', { page: '../admin' })).statusCode).toBe(400)
    expect((await h.call(app, frank, 'GET', '/v1/portal/url?page=billing')).statusCode).toBe(400)
  })
})

describe('portal deep links through the bridge in demo mode', () => {
  it("opens each page of the simulator's stand-in portal under PUBLIC_URL", async () => {
    const publicUrl = 'http://localhost:3001'
    const demo = await buildApp(
      testConfig({
        RECHARGE_API_URL: h.sim.url,
        RECHARGE_API_TOKEN: h.sim.apiToken,
        RECHARGE_BUCKET_SIZE: '1000',
        RECHARGE_LEAK_RATE: '1000',
        DEMO_STOREFRONT: 'true',
        PUBLIC_URL: publicUrl,
      }),
      { redis: null, backgroundWorkers: false },
    )
    try {
      await demo.ready()
      const token = await h.mint(demo, 'frank@example.com')
      for (const page of portalPages) {
        const link = await h.call(demo, token, 'POST', '/v1/portal/links', { page })
        const url = new URL(link.json().url)
        const redirect = await demo.inject({ method: 'GET', url: url.pathname + url.search })
        expect(redirect.headers.location).toBe(`${publicUrl}/portal/${hash}/${page}`)
        const html = await demo.inject({ method: 'GET', url: `/portal/${hash}/${page}` })
        expect(html.statusCode, page).toBe(200)
        expect(html.body).toContain('Recharge customer portal (simulator)')
        if (page === 'overview') expect(html.body).toContain('A payment failed.')
      }
      // Only the portal pages are forwarded: anything else never reaches the simulator.
      expect((await demo.inject({ method: 'GET', url: `/portal/${hash}/settings` })).statusCode).toBe(400)
    } finally {
      await demo.close()
    }
  })
})
