import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { customerGid } from './seed.ts'
import type { ShopifyApi, ShopifyState } from './state.ts'

/**
 * The Shopify answers the bridge relies on, in Shopify's wire shapes:
 * - `GET /.well-known/customer-account-api`: discovery, `{graphql_api, mcp_api}`;
 * - `POST /account/customer/api/<version>/graphql`: Customer Account API, the shopper's access token as `Authorization`
 *   (Shopify documents the bare token; `Bearer <token>` is accepted too), answering `customer { id emailAddress
 *   { emailAddress } }`; an unknown, expired or revoked token is a 401;
 * - `POST /api/<version>/graphql.json`: Storefront API, the merchant's `X-Shopify-Storefront-Access-Token`, answering
 *   `customer(customerAccessToken:) { id email }` (`customer: null` for a token Shopify does not honour, 401 for a
 *   wrong storefront token).
 * Queries are matched by the fields they name, not parsed: the stand-in answers what the bridge asks.
 */
export async function shopifyApiRoutes(app: FastifyInstance, { state }: { state: ShopifyState }): Promise<void> {
  const version = state.options.customerAccountApiVersion

  app.get('/.well-known/customer-account-api', async (request, reply) => {
    if (await faulted(state, 'discovery', request, reply)) return reply
    const base = `${request.protocol}://${request.host}`
    return {
      graphql_api: `${base}/account/customer/api/${version}/graphql`,
      mcp_api: `${base}/account/customer/api/mcp`,
    }
  })

  app.post('/account/customer/api/:version/graphql', async (request, reply) => {
    if (await faulted(state, 'customer_account', request, reply)) return reply
    const header = request.headers.authorization ?? ''
    const accessToken = header.replace(/^Bearer\s+/i, '').trim()
    const shopper = accessToken ? state.holder('customer_account', accessToken) : undefined
    if (!shopper) {
      return reply.code(401).send({ errors: [{ message: 'Unauthorized', extensions: { code: 'UNAUTHORIZED' } }] })
    }
    const query = queryOf(request)
    if (!/\bcustomer\b/.test(query)) return reply.code(200).send({ data: {} })
    return { data: { customer: { id: customerGid(shopper.id), emailAddress: { emailAddress: shopper.email } } } }
  })

  app.post('/api/:version/graphql.json', async (request, reply) => {
    if (await faulted(state, 'storefront', request, reply)) return reply
    if (request.headers['x-shopify-storefront-access-token'] !== state.options.storefrontToken) {
      return reply
        .code(401)
        .send({ errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' })
    }
    const customerAccessToken = storefrontCustomerToken(request)
    const shopper = customerAccessToken ? state.holder('storefront', customerAccessToken) : undefined
    return {
      data: { customer: shopper ? { id: customerGid(shopper.id), email: shopper.email } : null },
    }
  })
}

function queryOf(request: FastifyRequest): string {
  const body = request.body as { query?: unknown } | undefined
  return typeof body?.query === 'string' ? body.query : ''
}

/** The `customerAccessToken` argument: a variable (any name) or an inline string literal. */
function storefrontCustomerToken(request: FastifyRequest): string | undefined {
  const body = request.body as { query?: unknown; variables?: Record<string, unknown> } | undefined
  const query = queryOf(request)
  const inline = /customerAccessToken:\s*"([^"]+)"/.exec(query)?.[1]
  if (inline) return inline
  const variable = /customerAccessToken:\s*\$(\w+)/.exec(query)?.[1]
  const value = variable ? body?.variables?.[variable] : undefined
  return typeof value === 'string' ? value : undefined
}

/** Records the request and applies the first matching fault rule; true when the rule answered (or hangs). */
async function faulted(
  state: ShopifyState,
  api: ShopifyApi,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<boolean> {
  const entry = state.record({
    api,
    method: request.method,
    path: request.url.split('?', 1)[0] as string,
    status: null,
    at: new Date().toISOString(),
  })
  reply.raw.once('finish', () => {
    entry.status = reply.statusCode
  })
  const rule = state.takeFault(api)
  if (!rule) return false
  if (rule.latencyMs && rule.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, rule.latencyMs))
  if (rule.hang) {
    reply.hijack()
    return true
  }
  if (rule.status !== undefined) {
    reply.code(rule.status).send({ errors: [{ message: `simulated ${rule.status}` }] })
    return true
  }
  return false
}
