import { readFile } from 'node:fs/promises'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { type Dispatcher, request } from 'undici'
import { z } from 'zod'
import { demoStorefrontEnabled } from '../demo-mode.ts'
import { AppError } from '../errors.ts'
import { portalPages } from '../shopper/account-schemas.ts'

/**
 * The demo storefront at /demo: two plain HTML pages (shop, account) with scripts bundled from src/demo/app by
 * `npm run build` into dist/demo/public. Registered only in demo mode, or with DEMO_STOREFRONT=true outside
 * production. Its sign-in route mints a customer token for any email without a password, which is only acceptable
 * against the simulator, so it never exists when the bridge talks to Recharge itself. With it come the simulator's
 * stand-ins for Recharge's hosted pages (`/portal/…`, `/r/checkout/…`), answered under the bridge's own origin.
 */
const assetsDir = new URL('../../dist/demo/public/', import.meta.url)
const pages = { shop: 'shop.html', account: 'account.html' } as const

/** A portal hash or checkout token as the simulator mints them. */
const standInId = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/)

/** The stand-in page's own headers: it is a document carrying a credential in its URL (no caching, no referrer). */
const STAND_IN_HEADERS = [
  'content-type',
  'content-security-policy',
  'cache-control',
  'referrer-policy',
  'x-content-type-options',
] as const

/** GET a stand-in page from the simulator and answer it as is (status, body and its own headers). */
async function forwardStandIn(simulatorUrl: string, path: string, reply: FastifyReply): Promise<FastifyReply> {
  let upstream: Dispatcher.ResponseData
  let body: string
  try {
    upstream = await request(`${simulatorUrl.replace(/\/$/, '')}${path}`, {
      method: 'GET',
      headersTimeout: 5_000,
      bodyTimeout: 5_000,
    })
    body = await upstream.body.text()
  } catch {
    throw new AppError('UPSTREAM_UNAVAILABLE', { detail: 'The simulator did not answer for its hosted page.' })
  }
  reply.code(upstream.statusCode)
  for (const name of STAND_IN_HEADERS) {
    const value = upstream.headers[name]
    if (typeof value === 'string') reply.header(name, value)
  }
  return reply.send(body)
}

/** Asks the Shopify stand-in's control API for a shopper's Customer Account access token. */
async function issueCustomerAccountToken(shopifyUrl: string, email: string) {
  let issued: Dispatcher.ResponseData
  let answer: unknown
  try {
    issued = await request(`${shopifyUrl.replace(/\/$/, '')}/__sim/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ api: 'customer_account', email }),
      headersTimeout: 5_000,
      bodyTimeout: 5_000,
    })
    answer = await issued.body.json()
  } catch {
    throw new AppError('SHOPIFY_UNAVAILABLE', { detail: 'The Shopify stand-in did not answer.', retryAfter: 5 })
  }
  if (issued.statusCode === 404)
    throw new AppError('NOT_FOUND', { detail: 'The demo shop has no shopper with this email.' })
  const parsed = issuedToken.safeParse(answer)
  if (!parsed.success) throw new AppError('SHOPIFY_UNAVAILABLE', { detail: 'The Shopify stand-in issued no token.' })
  return parsed.data
}

const loginBody = z.strictObject({ email: z.email().max(254) })
const mintedToken = z.object({ token: z.string(), expires_at: z.string() })
const issuedToken = z.object({ access_token: z.string(), expires_at: z.string() })

export default async function demoRoutes(app: FastifyInstance): Promise<void> {
  if (!demoStorefrontEnabled(app.config)) return
  const routes = app.withTypeProvider<ZodTypeProvider>()

  await app.register(fastifyStatic, {
    root: assetsDir.pathname,
    prefix: '/demo/assets/',
    decorateReply: false,
    index: false,
    wildcard: true,
    // A fresh build changes the bundle under the same name: revalidate instead of caching for a day.
    maxAge: 0,
  })

  async function readPage(name: keyof typeof pages) {
    try {
      return await readFile(new URL(pages[name], assetsDir), 'utf8')
    } catch {
      throw new AppError('SERVICE_UNAVAILABLE', {
        detail: 'The demo storefront is not built: run `npm run build` (it writes dist/demo/public).',
      })
    }
  }

  // A newcomer opening the bridge's address lands on the storefront instead of a 404.
  routes.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/demo', 302))
  routes.get('/demo', { schema: { hide: true } }, async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(await readPage('shop')),
  )
  routes.get('/demo/account', { schema: { hide: true } }, async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(await readPage('account')),
  )

  // Recharge's hosted pages, as the simulator stands them in, under the bridge's own origin (src/demo-mode.ts).
  routes.get(
    '/portal/:hash/:page',
    { schema: { hide: true, params: z.object({ hash: standInId, page: z.enum(portalPages) }) } },
    async (request, reply) =>
      forwardStandIn(
        app.config.RECHARGE_API_URL,
        `/portal/${encodeURIComponent(request.params.hash)}/${request.params.page}`,
        reply,
      ),
  )
  routes.get(
    '/r/checkout/:token',
    { schema: { hide: true, params: z.object({ token: standInId }) } },
    async (request, reply) =>
      forwardStandIn(app.config.RECHARGE_API_URL, `/r/checkout/${encodeURIComponent(request.params.token)}`, reply),
  )

  // Demo-only sign-in: stands in for the merchant backend, which would mint the token after its own login.
  routes.post('/demo/api/login', { schema: { hide: true, body: loginBody } }, async (request, reply) => {
    const minted = await app.inject({
      method: 'POST',
      url: '/v1/admin/customer-tokens',
      headers: { authorization: `Bearer ${app.config.ADMIN_API_KEY}`, 'x-request-id': request.id },
      payload: { email: request.body.email },
    })
    reply.header('cache-control', 'no-store')
    if (minted.statusCode !== 200 && minted.statusCode !== 201) {
      // The admin route's problem+json (e.g. CUSTOMER_NOT_FOUND) is already client-safe.
      return reply
        .code(minted.statusCode)
        .type(minted.headers['content-type'] ?? 'application/problem+json')
        .send(minted.body)
    }
    const { token, expires_at } = mintedToken.parse(minted.json())
    return { token, expires_at, email: request.body.email }
  })

  // Demo-only "Shopify login", with the Shopify stand-in as the shop (demo mode starts one): it issues the shopper's
  // Customer Account access token, as Shopify's hosted login would hand it to a Hydrogen storefront. The page then
  // exchanges it at POST /v1/auth/shopify like any storefront.
  const shopifyUrl = app.config.SHOPIFY_API_URL
  if (shopifyUrl && app.config.SHOPIFY_SHOP_DOMAIN) {
    routes.post('/demo/api/shopify-login', { schema: { hide: true, body: loginBody } }, async (request, reply) => {
      const issued = await issueCustomerAccountToken(shopifyUrl, request.body.email)
      reply.header('cache-control', 'no-store')
      return { customer_account_access_token: issued.access_token, expires_at: issued.expires_at }
    })
  }
}
