import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deleteKeys, uniquePrefix } from '../support/redis.ts'
import { startTestShopify, type TestShopify } from '../support/shopify.ts'
import { type ShopperHarness, startShopperHarness } from '../support/shopper-harness.ts'
import { until } from '../support/until.ts'

/**
 * Sign in with Shopify on a mirrored store (MIRROR=on, ready): the Shopify customer is found in the mirror's index by
 * external customer id, the same lookup the admin token route uses, so signing in and reading /v1/me, directly or
 * through the app proxy, cost Recharge no call.
 */
const adminKey = 'test-admin-key-0123456789abcdef'
const keyPrefix = `tshopmir${randomBytes(4).toString('hex')}`
let h: ShopperHarness
let shopify: TestShopify
let app: FastifyInstance

beforeAll(async () => {
  h = await startShopperHarness('shopmir', { webhookAutoDeliver: false })
  shopify = await startTestShopify()
  app = await h.bridge(
    undefined,
    {
      backgroundWorkers: true,
      webhooks: { keyPrefix: uniquePrefix('shopify-mirror-webhooks'), watchdog: false },
      mirror: { namespace: h.namespace, sync: true, tickMs: 50, statusMs: 50 },
    },
    {
      ...shopify.env,
      REDIS_KEY_PREFIX: keyPrefix,
      SHOPIFY_SIGN_IN_PER_MINUTE: '10000',
      MIRROR: 'on',
      MIRROR_RECONCILE_SECONDS: '3600',
    },
  )
  await until(
    async () => {
      const response = await app.inject({
        method: 'GET',
        url: '/v1/admin/mirror',
        headers: { authorization: `Bearer ${adminKey}` },
      })
      return response.json().state === 'ready'
    },
    30_000,
    'mirror ready',
  )
})

afterAll(async () => {
  await shopify?.close()
  if (h) {
    await deleteKeys(h.redis, `${keyPrefix}*`)
    await h.close()
  }
})

describe('Sign in with Shopify on a mirrored store', () => {
  it('a session-token sign-in, /v1/me and /v1/app-proxy/me cost Recharge no call', async () => {
    const since = await h.ledgerLength()
    const exchanged = await app.inject({
      method: 'POST',
      url: '/v1/auth/shopify',
      payload: { session_token: await shopify.sessionToken({ email: 'bob@example.com' }) },
    })
    expect(exchanged.statusCode).toBe(200)
    const me = await h.call(app, exchanged.json().token, 'GET', '/v1/me')
    expect(me.statusCode).toBe(200)
    expect(me.json().email).toBe('bob@example.com')
    const proxied = await app.inject({
      method: 'GET',
      url: `/v1/app-proxy/me?${await shopify.signProxy({ email: 'bob@example.com' })}`,
    })
    expect(proxied.statusCode).toBe(200)
    expect(proxied.json().id).toBe(me.json().id)
    expect(await h.upstreamSince(since)).toEqual([])
  })
})
