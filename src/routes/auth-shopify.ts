import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { nodeRedisRateLimitStore } from '../checkout/rate-limit-store.ts'
import { AppError } from '../errors.ts'
import { type ShopifySignInMethod, SIGN_IN_METHODS } from '../identity/shopify/sign-in.ts'
import { FixedWindowCounter } from '../infra/fixed-window.ts'
import { problemSchema } from '../shopper/schemas.ts'

/** A Shopify credential: bounded, printable, no whitespace (the body never reaches a log). */
const credential = z
  .string()
  .min(8)
  .max(4096)
  .regex(/^[\x21-\x7e]+$/, 'must be the credential as Shopify gave it')

const signInBody = z.union([
  z.strictObject({ customer_account_access_token: credential }),
  z.strictObject({ storefront_customer_access_token: credential }),
  z.strictObject({ session_token: credential }),
])

const WINDOW_MS = 60_000

/**
 * POST /v1/auth/shopify: a storefront exchanges the Shopify credential it already holds for the bridge's customer
 * token, with no merchant backend in between. Rate limited per client IP (@fastify/rate-limit on the shared store)
 * and for the whole shop (every sign-in may cost a call to Shopify).
 */
export default async function authShopifyRoutes(parent: FastifyInstance): Promise<void> {
  const app = parent.withTypeProvider<ZodTypeProvider>()
  const config = app.config
  const onDegraded = (error: unknown) =>
    app.log.warn(
      { err: { message: (error as Error).message } },
      'Shopify sign-in rate limit: redis unavailable, counting per replica',
    )

  // Inside this (encapsulated) module: its onRoute hook sees only the route below.
  await app.register(rateLimit, {
    global: false,
    store: nodeRedisRateLimitStore({ redis: app.redis, prefix: `${config.REDIS_KEY_PREFIX}:rl:shopify:`, onDegraded }),
    timeWindow: WINDOW_MS,
    errorResponseBuilder: (_request, context) =>
      new AppError('RATE_LIMITED', {
        detail: `Too many sign-ins from this client; retry in ${context.after}.`,
        retryAfter: Math.max(1, Math.ceil(context.ttl / 1000)),
      }),
  })
  const shopWindow = new FixedWindowCounter({
    redis: app.redis,
    prefix: `${config.REDIS_KEY_PREFIX}:rl:shopify-shop:`,
    onDegraded,
  })

  app.post(
    '/auth/shopify',
    {
      config: { rateLimit: { max: config.SHOPIFY_SIGN_IN_PER_MINUTE, timeWindow: WINDOW_MS } },
      preHandler: async () => {
        const { count, resetInMs } = await shopWindow.hit(app.shopifyAuth.signIn.shopDomain ?? 'none', WINDOW_MS)
        if (count > config.SHOPIFY_SIGN_IN_SHOP_PER_MINUTE) {
          throw new AppError('RATE_LIMITED', {
            detail: 'Too many sign-ins for this shop just now; retry shortly.',
            retryAfter: Math.max(1, Math.ceil(resetInMs / 1000)),
          })
        }
      },
      schema: {
        tags: ['shopify'],
        summary: 'Sign in with Shopify: exchange a Shopify credential for a customer token',
        description:
          'Send exactly one credential: `customer_account_access_token` (Customer Account API, Hydrogen), ' +
          '`storefront_customer_access_token` (Storefront API `customerAccessTokenCreate`) or `session_token` ' +
          '(customer-account UI extension). The bridge asks Shopify who it belongs to (or checks the JWT), finds the ' +
          "Recharge customer whose external_customer_id is the shopper's Shopify id, and answers the same customer " +
          'token POST /v1/admin/customer-tokens mints (15 min) for the shopper routes.',
        body: signInBody,
        response: {
          200: z.object({ token: z.string(), expires_at: z.string().describe('ISO 8601') }),
          401: problemSchema.describe('Shopify does not vouch for the credential (SHOPIFY_CREDENTIAL_REFUSED)'),
          404: problemSchema.describe('The Shopify customer has no Recharge customer (RECHARGE_CUSTOMER_NOT_FOUND)'),
          422: problemSchema.describe('This method is not configured on the bridge (SHOPIFY_METHOD_NOT_ENABLED)'),
          429: problemSchema.describe('Too many sign-ins from this client or for this shop (RATE_LIMITED)'),
          503: problemSchema.describe('Shopify did not answer in time (SHOPIFY_UNAVAILABLE, with Retry-After)'),
        },
      },
    },
    async (request, reply) => {
      const body = request.body as Record<ShopifySignInMethod, string>
      const method = SIGN_IN_METHODS.find((name) => name in body) as ShopifySignInMethod
      const minted = await app.shopifyAuth.exchange(method, body[method], request.log)
      reply.header('cache-control', 'no-store')
      return { token: minted.token, expires_at: minted.expiresAt.toISOString() }
    },
  )
}
