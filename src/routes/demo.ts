import { readFile } from 'node:fs/promises'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Config } from '../config.ts'
import { AppError } from '../errors.ts'

/**
 * The demo storefront at /demo: two plain HTML pages (shop, account) with scripts bundled from src/demo/app by
 * `npm run build` into dist/demo/public. Registered only in demo mode, or with DEMO_STOREFRONT=true outside
 * production. Its sign-in route mints a customer token for any email without a password, which is only acceptable
 * against the simulator, so it never exists when the bridge talks to Recharge itself.
 */
const assetsDir = new URL('../../dist/demo/public/', import.meta.url)
const pages = { shop: 'shop.html', account: 'account.html' } as const

export function demoStorefrontEnabled(config: Config): boolean {
  if (config.demoMode) return true
  return config.DEMO_STOREFRONT === true && config.NODE_ENV !== 'production' && !talksToRecharge(config)
}

function talksToRecharge(config: Config): boolean {
  const host = new URL(config.RECHARGE_API_URL).hostname
  return host === 'rechargeapps.com' || host.endsWith('.rechargeapps.com')
}

const loginBody = z.strictObject({ email: z.email().max(254) })
const mintedToken = z.object({ token: z.string(), expires_at: z.string() })

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
}
