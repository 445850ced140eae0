import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AppError } from '../errors.ts'
import { APP_PROXY_PARAMS } from '../identity/shopify/app-proxy-signature.ts'
import addresses from './addresses.ts'
import charges from './charges.ts'
import deliverySchedule from './delivery-schedule.ts'
import discounts from './discounts.ts'
import me from './me.ts'
import onetimes from './onetimes.ts'
import orderNow from './order-now.ts'
import orders from './orders.ts'
import paymentMethods from './payment-methods.ts'
import portal from './portal.ts'
import retention from './retention.ts'
import subscriptionAddress from './subscription-address.ts'
import subscriptions from './subscriptions.ts'

/** The shopper route modules a storefront page may reach through the Shopify app proxy, as they are under /v1. */
export const APP_PROXY_ROUTE_MODULES = [
  me,
  portal,
  subscriptions,
  charges,
  onetimes,
  deliverySchedule,
  orders,
  addresses,
  paymentMethods,
  subscriptionAddress,
  retention,
  discounts,
  orderNow,
]

const proxyParams = new Set<string>(APP_PROXY_PARAMS)

/** The one copy the OpenAPI document shows (the others answer exactly as their /v1 originals). */
const documentedMe = {
  tags: ['shopify'],
  security: [{ appProxySignature: [] }],
  summary: "The shopper's Recharge customer, through the Shopify app proxy",
  description:
    'GET /v1/me for the shopper Shopify names in `logged_in_customer_id`, on a request Shopify forwarded through ' +
    'the app proxy and signed (`shop`, `path_prefix`, `timestamp`, `signature` in the query). No bearer token. Every ' +
    'shopper route of /v1 answers the same way under /v1/app-proxy/ (docs/storefront-integration.md). 401 ' +
    'SHOPIFY_CREDENTIAL_REFUSED for a missing, wrong, stale or other-shop signature; 401 UNAUTHENTICATED when nobody ' +
    'is signed in on the storefront; 404 RECHARGE_CUSTOMER_NOT_FOUND when Recharge has no customer for the shopper.',
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Shopify signs what the shopper's own browser asked for, so a page on another site that makes that browser post to
 * the shop's proxy URL would act as the shopper (cross-site request forgery) wherever the storefront's session cookie
 * travels with such a request. Browsers say where a request comes from in `Sec-Fetch-Site`: a write from another site
 * is refused; the storefront's own pages (same-origin) and server-side callers (no header) are not affected.
 */
function refuseCrossSiteWrite(request: FastifyRequest): void {
  if (SAFE_METHODS.has(request.method)) return
  const site = request.headers['sec-fetch-site']
  if (site === 'cross-site' || site === 'same-site') {
    throw new AppError('FORBIDDEN', {
      detail: 'A change through the app proxy must come from the storefront itself, not from another site.',
    })
  }
}

function rawQuery(request: FastifyRequest): string {
  const index = request.url.indexOf('?')
  return index < 0 ? '' : request.url.slice(index + 1)
}

/**
 * /v1/app-proxy/*: the shopper routes again, for storefront pages on the shop's own domain that reach the bridge
 * through a Shopify app proxy (proxy URL `<PUBLIC_URL>/v1/app-proxy`). The same route modules are registered a second
 * time under this prefix; what differs is how the shopper is proven. Instead of a bearer customer token, every request
 * must carry Shopify's app-proxy signature (verified before the body is read: signature, timestamp age, shop), and
 * `logged_in_customer_id` names the shopper; `requireShopper` then finds `request.shopper` already set. Shopify's own
 * parameters are taken out of the query before the routes' schemas see it. Only when SHOPIFY_SHOP_DOMAIN and
 * SHOPIFY_APP_SECRET are set. Of the copies, the OpenAPI document shows GET /v1/app-proxy/me only
 * (docs/storefront-integration.md lists the rest).
 */
export default async function appProxyRoutes(app: FastifyInstance): Promise<void> {
  if (!app.shopifyAuth.signIn.methods.app_proxy) return
  await app.register(
    async (proxy) => {
      proxy.addHook('onRoute', (route) => {
        route.schema =
          route.method === 'GET' && route.url === '/v1/app-proxy/me'
            ? { ...route.schema, ...documentedMe }
            : { ...route.schema, hide: true }
      })
      proxy.addHook('onRequest', async (request) => {
        refuseCrossSiteWrite(request)
        request.shopper = await app.shopifyAuth.proxyShopper(rawQuery(request), request.log)
      })
      proxy.addHook('preValidation', async (request) => {
        const query = request.query as Record<string, unknown> | undefined
        if (!query || typeof query !== 'object') return
        request.query = Object.fromEntries(Object.entries(query).filter(([key]) => !proxyParams.has(key)))
      })
      for (const module of APP_PROXY_ROUTE_MODULES) await proxy.register(module)
    },
    { prefix: '/app-proxy' },
  )
}
