import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deleteKeys } from '../support/redis.ts'
import { startTestShopify, type TestShopify } from '../support/shopify.ts'
import { activeWithQueuedCharge, type ShopperHarness, startShopperHarness } from '../support/shopper-harness.ts'

/**
 * Attacks on Sign in with Shopify, replayed against the Shopify stand-in and the Recharge simulator over HTTP: a forged
 * or re-addressed session token, a forged, re-targeted, replayed or other-shop app-proxy request. Each is a 401 and
 * costs Recharge nothing (the simulator's ledger stays as it was).
 */
const MAX_AGE_S = 60
const keyPrefix = `tshopatk${randomBytes(4).toString('hex')}`
let h: ShopperHarness
let shopify: TestShopify
let app: FastifyInstance

beforeAll(async () => {
  h = await startShopperHarness('shopifyattacks')
  shopify = await startTestShopify()
  app = await h.bridge(
    undefined,
    {},
    {
      ...shopify.env,
      REDIS_KEY_PREFIX: keyPrefix,
      SHOPIFY_APP_PROXY_MAX_AGE_S: String(MAX_AGE_S),
      SHOPIFY_SIGN_IN_PER_MINUTE: '10000',
    },
  )
})

afterAll(async () => {
  await shopify?.close()
  if (h) {
    await deleteKeys(h.redis, `${keyPrefix}*`)
    await h.close()
  }
})

async function refusedWithoutRecharge(request: () => Promise<{ statusCode: number; json(): { code: string } }>) {
  const mark = await h.ledgerLength()
  const response = await request()
  expect(response.statusCode).toBe(401)
  expect(await h.upstreamSince(mark)).toEqual([])
  return response.json().code
}

function exchange(sessionToken: string) {
  return app.inject({ method: 'POST', url: '/v1/auth/shopify', payload: { session_token: sessionToken } })
}

function proxied(query: string, path = '/v1/app-proxy/me') {
  return app.inject({ method: 'GET', url: `${path}?${query}` })
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

describe('forged session tokens', () => {
  it('signed with another secret', async () => {
    const forged = await shopify.sessionToken({ email: 'alice@example.com' }, { secret: 'not-the-app-secret-at-all' })
    expect(await refusedWithoutRecharge(() => exchange(forged))).toBe('SHOPIFY_CREDENTIAL_REFUSED')
  })

  it('unsigned (alg none), naming any customer', async () => {
    const now = Math.floor(Date.now() / 1000)
    const unsigned = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({
      dest: shopify.options.shopDomain,
      aud: shopify.options.clientId,
      sub: 'gid://shopify/Customer/7001001',
      exp: now + 60,
      nbf: now,
      iat: now,
    })}.`
    expect(await refusedWithoutRecharge(() => exchange(unsigned))).toBe('SHOPIFY_CREDENTIAL_REFUSED')
  })

  it('a genuine token with its payload swapped for another customer', async () => {
    const genuine = await shopify.sessionToken({ email: 'alice@example.com' })
    const [header, payload, signature] = genuine.split('.') as [string, string, string]
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
    const swapped = `${header}.${base64url({ ...claims, sub: 'gid://shopify/Customer/7001002' })}.${signature}`
    expect(await refusedWithoutRecharge(() => exchange(swapped))).toBe('SHOPIFY_CREDENTIAL_REFUSED')
  })

  it('genuinely signed, but for another shop or another app', async () => {
    for (const extra of [{ shop: 'other-shop.myshopify.com' }, { aud: 'another-client-id' }]) {
      const token = await shopify.sessionToken({ email: 'alice@example.com' }, extra)
      expect(await refusedWithoutRecharge(() => exchange(token))).toBe('SHOPIFY_CREDENTIAL_REFUSED')
    }
  })
})

describe('app-proxy requests', () => {
  it('a signed request re-targeted at another shopper', async () => {
    const genuine = await shopify.signProxy({ email: 'alice@example.com' })
    const retargeted = genuine.replace('logged_in_customer_id=7001001', 'logged_in_customer_id=7001002')
    expect(retargeted).not.toBe(genuine)
    expect(await refusedWithoutRecharge(() => proxied(retargeted))).toBe('SHOPIFY_CREDENTIAL_REFUSED')
  })

  it('signed with another secret', async () => {
    const forged = await shopify.signProxy({ email: 'alice@example.com', secret: 'an-attacker-secret' })
    expect(await refusedWithoutRecharge(() => proxied(forged))).toBe('SHOPIFY_CREDENTIAL_REFUSED')
  })

  it('a captured URL replayed after the allowed age (a fresh one still works)', async () => {
    const old = Math.floor(Date.now() / 1000) - MAX_AGE_S - 30
    const captured = await shopify.signProxy({ email: 'alice@example.com', timestamp: old })
    expect(await refusedWithoutRecharge(() => proxied(captured))).toBe('SHOPIFY_CREDENTIAL_REFUSED')
    const future = await shopify.signProxy({ email: 'alice@example.com', timestamp: old + 3 * 3600 })
    expect(await refusedWithoutRecharge(() => proxied(future))).toBe('SHOPIFY_CREDENTIAL_REFUSED')
    expect((await proxied(await shopify.signProxy({ email: 'alice@example.com' }))).statusCode).toBe(200)
  })

  it('correctly signed by another shop using the same app', async () => {
    const otherShop = await shopify.signProxy({ email: 'alice@example.com', shop: 'other-shop.myshopify.com' })
    expect(await refusedWithoutRecharge(() => proxied(otherShop))).toBe('SHOPIFY_CREDENTIAL_REFUSED')
  })

  it('a write forged from another site (cross-site request forgery) is refused; the storefront page itself may write', async () => {
    const { charge, subscription } = activeWithQueuedCharge(
      await h.sim.state(),
      await h.customerId('alice@example.com'),
    )
    const skip = async (site: string) =>
      app.inject({
        method: 'POST',
        url: `/v1/app-proxy/charges/${charge.id}/skip?${await shopify.signProxy({ email: 'alice@example.com' })}`,
        headers: { 'sec-fetch-site': site },
        payload: { subscription_ids: [String(subscription.id)] },
      })
    for (const site of ['cross-site', 'same-site']) {
      const mark = await h.ledgerLength()
      const forged = await skip(site)
      expect([forged.statusCode, forged.json().code]).toEqual([403, 'FORBIDDEN'])
      expect(await h.upstreamSince(mark)).toEqual([])
    }
    // The same request from the storefront's own page goes through.
    expect((await skip('same-origin')).statusCode).toBe(200)
  })

  it('a bearer token does not open the proxy routes, and proxy parameters do not open the bearer routes', async () => {
    const token = await h.mint(app, 'alice@example.com')
    const bearerOnProxy = await refusedWithoutRecharge(() =>
      app.inject({ method: 'GET', url: '/v1/app-proxy/me', headers: { authorization: `Bearer ${token}` } }),
    )
    expect(bearerOnProxy).toBe('SHOPIFY_CREDENTIAL_REFUSED')
    const signed = await shopify.signProxy({ email: 'alice@example.com' })
    expect(await refusedWithoutRecharge(() => proxied(signed, '/v1/me'))).toBe('UNAUTHENTICATED')
  })
})
