import type { FastifyInstance } from 'fastify'
import { SignJWT } from 'jose'
import { z } from 'zod'
import { signedProxyQuery } from './app-proxy.ts'
import { customerGid } from './seed.ts'
import type { ShopifyFaultRule, ShopifyState } from './state.ts'

const shopperReference = {
  customer_id: z.string().regex(/^\d+$/).optional(),
  email: z.string().optional(),
}

const tokenRequest = z.object({
  api: z.enum(['customer_account', 'storefront']),
  ...shopperReference,
  /** Seconds from now; 0 or less issues an already expired token. */
  expires_in: z.number().int().optional(),
  /** Issue it as another shop would: this shop's APIs do not know it. */
  shop: z.string().optional(),
})

const sessionTokenRequest = z.object({
  ...shopperReference,
  expires_in: z.number().int().optional(),
  shop: z.string().optional(),
  aud: z.string().optional(),
  /** Sign with another secret (a forgery). */
  secret: z.string().optional(),
})

const proxyRequest = z.object({
  ...shopperReference,
  /** Extra query parameters of the shopper's request (repeated values as arrays). */
  query: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
  path_prefix: z.string().default('/apps/subscriptions'),
  /** Unix seconds; default now. */
  timestamp: z.number().int().optional(),
  shop: z.string().optional(),
  secret: z.string().optional(),
})

const faultRules = z.array(
  z.object({
    api: z.enum(['discovery', 'customer_account', 'storefront']).optional(),
    status: z.number().int().min(100).max(599).optional(),
    latencyMs: z.number().int().min(0).max(600_000).optional(),
    hang: z.boolean().optional(),
    count: z.number().int().positive().optional(),
  }),
)

/**
 * The control API (`/__sim/*`, never recorded): what Shopify would hand a storefront after a sign-in (access tokens,
 * extension session tokens, signed app-proxy queries), token revocation, fault rules, the ledger and a reset.
 */
export async function shopifyControlRoutes(app: FastifyInstance, { state }: { state: ShopifyState }): Promise<void> {
  const { options } = state

  function shopperOr404(reference: { customer_id?: string | undefined; email?: string | undefined }) {
    return state.shopperBy({
      ...(reference.customer_id ? { customerId: reference.customer_id } : {}),
      ...(reference.email ? { email: reference.email } : {}),
    })
  }

  app.post('/__sim/reset', async () => {
    state.reset()
    return { ok: true }
  })

  app.get('/__sim/shoppers', async () => ({ shoppers: [...state.shoppers.values()] }))

  app.post('/__sim/tokens', async (request, reply) => {
    const body = tokenRequest.safeParse(request.body)
    if (!body.success) return reply.code(400).send({ error: body.error.message })
    const shopper = shopperOr404(body.data)
    if (!shopper) return reply.code(404).send({ error: 'no such shopper' })
    const issued = state.issue(body.data.api, shopper.id, {
      ...(body.data.expires_in === undefined ? {} : { lifetimeS: body.data.expires_in }),
      ...(body.data.shop ? { shop: body.data.shop } : {}),
    })
    return reply.code(201).send({
      access_token: issued.accessToken,
      expires_at: issued.expiresAt.toISOString(),
      customer_id: shopper.id,
    })
  })

  app.post('/__sim/tokens/revoke', async (request, reply) => {
    const accessToken = (request.body as { access_token?: unknown } | undefined)?.access_token
    const token = typeof accessToken === 'string' ? state.tokens.get(accessToken) : undefined
    if (!token) return reply.code(404).send({ error: 'no such token' })
    token.revoked = true
    return { revoked: true }
  })

  app.post('/__sim/session-tokens', async (request, reply) => {
    const body = sessionTokenRequest.safeParse(request.body)
    if (!body.success) return reply.code(400).send({ error: body.error.message })
    const shopper = shopperOr404(body.data)
    if (!shopper) return reply.code(404).send({ error: 'no such shopper' })
    const shop = body.data.shop ?? options.shopDomain
    const now = Math.floor(Date.now() / 1000)
    const token = await new SignJWT({ dest: shop, sid: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(`https://${shop}/admin`)
      .setAudience(body.data.aud ?? options.clientId)
      .setSubject(customerGid(shopper.id))
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + (body.data.expires_in ?? 300))
      .setJti(crypto.randomUUID())
      .sign(new TextEncoder().encode(body.data.secret ?? options.appSecret))
    return reply.code(201).send({ session_token: token })
  })

  app.post('/__sim/app-proxy/sign', async (request, reply) => {
    const body = proxyRequest.safeParse(request.body)
    if (!body.success) return reply.code(400).send({ error: body.error.message })
    const shopper = body.data.customer_id || body.data.email ? shopperOr404(body.data) : undefined
    if ((body.data.customer_id || body.data.email) && !shopper) {
      return reply.code(404).send({ error: 'no such shopper' })
    }
    const params: [string, string][] = []
    for (const [key, value] of Object.entries(body.data.query ?? {})) {
      for (const item of Array.isArray(value) ? value : [value]) params.push([key, item])
    }
    params.push(['shop', body.data.shop ?? options.shopDomain])
    params.push(['logged_in_customer_id', shopper?.id ?? ''])
    params.push(['path_prefix', body.data.path_prefix])
    params.push(['timestamp', String(body.data.timestamp ?? Math.floor(Date.now() / 1000))])
    return { query: signedProxyQuery(params, body.data.secret ?? options.appSecret) }
  })

  app.get('/__sim/requests', async () => ({ requests: state.ledger }))

  app.post('/__sim/faults', async (request, reply) => {
    const rules = faultRules.safeParse(request.body)
    if (!rules.success) return reply.code(400).send({ error: rules.error.message })
    state.faults = rules.data.map((rule: ShopifyFaultRule) => ({
      ...rule,
      remaining: rule.count ?? Number.POSITIVE_INFINITY,
    }))
    return { rules: state.faults.length }
  })

  app.delete('/__sim/faults', async () => {
    state.faults = []
    return { rules: 0 }
  })
}
