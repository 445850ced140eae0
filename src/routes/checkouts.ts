import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { createCheckoutBinder } from '../checkout/binding.ts'
import { createChargeLock } from '../checkout/charge-lock.ts'
import { buyerTags } from '../checkout/invalidation.ts'
import { hostedCheckoutUrl } from '../checkout/present.ts'
import { checkoutRateLimits } from '../checkout/rate-limit.ts'
import { nodeRedisRateLimitStore } from '../checkout/rate-limit-store.ts'
import {
  chargeCheckoutBodySchema,
  chargeResponseSchema,
  checkoutResponseSchema,
  checkoutSecretHeaderSchema,
  checkoutTokenParamsSchema,
  createCheckoutBodySchema,
  createdCheckoutResponseSchema,
  shippingRatesResponseSchema,
  updateCheckoutBodySchema,
} from '../checkout/schemas.ts'
import { createCheckoutService } from '../checkout/service.ts'
import { AppError } from '../errors.ts'
import { beforeIdempotentWrite } from '../plugins/idempotency.ts'
import { spendAs } from '../recharge/budget/spender.ts'
import '../plugins/auth-types.ts'

/** The context of a keyed write: the Idempotency-Key guard runs right before the upstream call. */
function writeContext(request: FastifyRequest) {
  return { requestId: request.id, beforeWrite: () => beforeIdempotentWrite(request) }
}

const idempotencyHeaderSchema = z.object({
  'idempotency-key': z
    .string()
    .optional()
    .describe(
      'Optional: a retried request with the same key is answered once. Without a checkout secret (creating) the key alone is the scope: at least 16 characters, random (a UUID)',
    ),
})

/**
 * Storefront checkout routes (Recharge Checkouts API). Public: no shopper token, because the buyer may not have a
 * Recharge account yet. Three defences replace it:
 *  - prices, plans and intervals come from the catalog only (strict request schemas, cart resolution);
 *  - every call after creation must carry the checkout's `X-Checkout-Secret` (a wrong one is a 404);
 *  - per-client-IP rate limits on every route of this module (and nothing outside it).
 */
export default async function checkoutsRoutes(parent: FastifyInstance): Promise<void> {
  const app = parent.withTypeProvider<ZodTypeProvider>()
  const config = app.config
  const limits = checkoutRateLimits(config.CHECKOUT_RATE_LIMIT_PER_MINUTE)

  // Registered inside this (encapsulated) module: its onRoute hook sees only the routes below.
  await app.register(rateLimit, {
    global: false,
    store: nodeRedisRateLimitStore({
      redis: app.redis,
      prefix: `${app.config.REDIS_KEY_PREFIX}:rl:checkout:`,
      onDegraded: (error) =>
        app.log.warn(
          { err: { message: (error as Error).message } },
          'checkout rate limit: redis unavailable, counting per replica',
        ),
    }),
    timeWindow: 60_000,
    errorResponseBuilder: (_request, context) =>
      new AppError('RATE_LIMITED', {
        detail: `Too many checkout requests from this client; retry in ${context.after}.`,
        retryAfter: Math.max(1, Math.ceil(context.ttl / 1000)),
      }),
  })

  // Per-IP limits need the client's address. A request forwarded by a proxy we do not trust carries the proxy's
  // address: every shopper then shares one limit. Said once, so the operator sets TRUST_PROXY.
  if (!config.TRUST_PROXY) {
    let warned = false
    app.addHook('onRequest', async (request) => {
      if (warned || request.headers['x-forwarded-for'] === undefined) return
      warned = true
      request.log.warn(
        'checkout request forwarded by a proxy (X-Forwarded-For) while TRUST_PROXY is unset: per-client rate limits see the proxy address, so all clients share one limit; set TRUST_PROXY to the proxy address',
      )
    })
  }

  const chargeOutcomes = app.metrics.counter(
    'recharge_bridge_checkout_charges_total',
    'Checkout charge attempts by outcome (processed, recovered, card_declined, sca_required, …)',
    ['outcome'],
  )
  const binder = createCheckoutBinder(config.CUSTOMER_TOKEN_SECRET)
  const service = createCheckoutService({
    checkouts: app.recharge.checkouts,
    catalog: app.catalog,
    binder,
    chargeLock: createChargeLock({
      redis: app.redis,
      prefix: `${app.config.REDIS_KEY_PREFIX}:checkout:`,
      onDegraded: (error) =>
        app.log.warn({ err: { message: (error as Error).message } }, 'checkout charge lock: redis unavailable'),
    }),
    checkoutUrl: (token) => hostedCheckoutUrl(token, config),
    invalidateBuyer: async (buyer) => {
      const tags = buyerTags(buyer)
      if (tags.length === 0) return
      try {
        await app.cache.invalidateTags(tags)
      } catch (error) {
        app.log.warn({ err: { message: (error as Error).message } }, 'could not invalidate the buyer cache')
      }
    },
    onChargeOutcome: (outcome) => chargeOutcomes.inc({ outcome }),
    log: app.log,
  })

  /** The checkout secret must match the token; otherwise the checkout "does not exist" for this client. */
  const requireCheckoutSecret: preHandlerAsyncHookHandler = async (request: FastifyRequest) => {
    const { token } = request.params as { token: string }
    const header = request.headers['x-checkout-secret']
    const secret = typeof header === 'string' ? header : undefined
    if (!binder.verify(token, secret)) {
      throw new AppError('NOT_FOUND', { detail: 'No such checkout.' })
    }
    // Idempotency-Keys of this checkout belong to whoever holds its secret, whatever their IP.
    request.idempotencyPrincipal = `checkout:${token}`
  }

  app.post(
    '/checkouts',
    {
      config: { idempotency: 'optional', rateLimit: limits.create },
      schema: {
        tags: ['checkout'],
        summary: 'Create a checkout from cart lines (prices and intervals from the catalog)',
        description:
          'Lines name products, variants and plans; prices, discounts and intervals come from the catalog, and a price ' +
          'or interval field is refused (400). Errors: UNPROCESSABLE (422, `errors[].field` points at the line), ' +
          'VALIDATION_FAILED, RATE_LIMITED. Keep the returned `checkout_secret`: later calls need it.',
        headers: idempotencyHeaderSchema,
        body: createCheckoutBodySchema,
        response: { 201: createdCheckoutResponseSchema },
      },
    },
    async (request, reply) => {
      // Anonymous: the catalog reads are charged to this client and the public share; the create call to the public
      // share only (this route's per-IP limit already bounds it per client).
      const created = await spendAs({ kind: 'public', client: request.ip }, () =>
        service.create(request.body, writeContext(request)),
      )
      return reply.code(201).send(created)
    },
  )

  app.get(
    '/checkouts/:token',
    {
      config: { rateLimit: limits.read },
      preHandler: requireCheckoutSecret,
      schema: {
        tags: ['checkout'],
        summary: 'Read a checkout (totals, lines, status)',
        description: 'Errors: NOT_FOUND (unknown token, or missing/wrong X-Checkout-Secret), RATE_LIMITED.',
        params: checkoutTokenParamsSchema,
        headers: checkoutSecretHeaderSchema,
        response: { 200: checkoutResponseSchema },
      },
    },
    async (request) => service.get(request.params.token, { requestId: request.id }),
  )

  app.get(
    '/checkouts/:token/shipping-rates',
    {
      config: { rateLimit: limits.read },
      preHandler: requireCheckoutSecret,
      schema: {
        tags: ['checkout'],
        summary: 'Shipping rates Recharge offers for the checkout (set a shipping address first)',
        description: 'Errors: NOT_FOUND, RATE_LIMITED.',
        params: checkoutTokenParamsSchema,
        headers: checkoutSecretHeaderSchema,
        response: { 200: shippingRatesResponseSchema },
      },
    },
    async (request) => service.shippingRates(request.params.token, { requestId: request.id }),
  )

  app.patch(
    '/checkouts/:token',
    {
      config: { idempotency: 'optional', rateLimit: limits.update },
      preHandler: requireCheckoutSecret,
      schema: {
        tags: ['checkout'],
        summary: 'Set the email, addresses, shipping rate or discount code of a checkout',
        description: 'Errors: NOT_FOUND, UPSTREAM_REJECTED (e.g. an unknown discount code), RATE_LIMITED.',
        params: checkoutTokenParamsSchema,
        headers: checkoutSecretHeaderSchema.extend(idempotencyHeaderSchema.shape),
        body: updateCheckoutBodySchema,
        response: { 200: checkoutResponseSchema },
      },
    },
    async (request) => service.update(request.params.token, request.body, writeContext(request)),
  )

  app.post(
    '/checkouts/:token/charge',
    {
      config: { idempotency: 'required', rateLimit: limits.charge },
      preHandler: requireCheckoutSecret,
      schema: {
        tags: ['checkout'],
        summary: 'Charge the checkout with a payment-processor token (requires Idempotency-Key; never retried)',
        description:
          'One Idempotency-Key per payment attempt: a repeat gets the first answer. Errors a storefront acts on: ' +
          'CARD_DECLINED and SCA_REQUIRED (402), CHECKOUT_IN_PROGRESS (409), CHECKOUT_ALREADY_PROCESSED (422), ' +
          'CHECKOUT_NOT_CHARGED (503, safe to retry with a new key), CHECKOUT_OUTCOME_UNKNOWN (502, read the checkout ' +
          'before asking for payment again), IDEMPOTENCY_KEY_REQUIRED (428), NOT_FOUND, RATE_LIMITED.',
        params: checkoutTokenParamsSchema,
        headers: checkoutSecretHeaderSchema.extend({
          'idempotency-key': z.string().optional().describe('Required: one key per payment attempt (a UUID)'),
        }),
        body: chargeCheckoutBodySchema,
        response: { 200: chargeResponseSchema },
      },
    },
    async (request) =>
      service.charge(request.params.token, request.body, writeContext(request)).catch((error: unknown) => {
        // Whether the payment went through is not known: a same-key retry gets this answer again, never a charge.
        if (error instanceof AppError && error.code === 'CHECKOUT_OUTCOME_UNKNOWN')
          request.upstreamOutcomeUnknown = true
        throw error
      }),
  )
}
