import type { Dispatcher } from 'undici'
import type { Config } from '../../config.ts'
import { type VerifiedProxyRequest, verifyAppProxyQuery } from './app-proxy-signature.ts'
import type { ShopifyCustomer } from './customer.ts'
import { type CustomerAccountVerifier, createCustomerAccountVerifier } from './customer-account.ts'
import { ShopifyUnavailable } from './errors.ts'
import { createSessionTokenVerifier, type SessionTokenVerifier } from './session-token.ts'
import { createStorefrontVerifier, type StorefrontVerifier } from './storefront.ts'

/** The credentials POST /v1/auth/shopify takes, by the body field that names them. */
export const SIGN_IN_METHODS = [
  'customer_account_access_token',
  'storefront_customer_access_token',
  'session_token',
] as const
export type ShopifySignInMethod = (typeof SIGN_IN_METHODS)[number]

/** Answers about Customer Account and Storefront tokens are remembered this long (both live an hour or more). */
const ANSWER_TTL_MS = 60_000

export interface ShopifySignIn {
  /** The configured shop, or null when Sign in with Shopify is off altogether. */
  readonly shopDomain: string | null
  /** Which methods are on (each needs its own settings, docs/storefront-integration.md). */
  readonly methods: Readonly<Record<ShopifySignInMethod | 'app_proxy', boolean>>
  /** The Shopify customer a credential proves, within SHOPIFY_TIMEOUT_MS. Throws ShopifyCredentialRefused or ShopifyUnavailable. */
  verify(method: ShopifySignInMethod, credential: string): Promise<ShopifyCustomer>
  /** Checks an app-proxy request's raw query string (signature, age, shop). Throws ShopifyCredentialRefused. */
  verifyProxy(rawQuery: string): VerifiedProxyRequest
}

type Settings = Pick<
  Config,
  | 'SHOPIFY_SHOP_DOMAIN'
  | 'SHOPIFY_API_URL'
  | 'SHOPIFY_APP_SECRET'
  | 'SHOPIFY_APP_CLIENT_ID'
  | 'SHOPIFY_STOREFRONT_TOKEN'
  | 'SHOPIFY_STOREFRONT_API_VERSION'
  | 'SHOPIFY_TIMEOUT_MS'
  | 'SHOPIFY_APP_PROXY_MAX_AGE_S'
>

/**
 * Sign in with Shopify: one verifier per credential, each built only when its settings are present. Every call to
 * Shopify runs under one deadline (discovery and query together), so a slow Shopify costs a sign-in at most
 * SHOPIFY_TIMEOUT_MS and then a 503, never a hang.
 */
export function createShopifySignIn(settings: Settings, dispatcher?: Dispatcher): ShopifySignIn {
  const shop = settings.SHOPIFY_SHOP_DOMAIN ?? null
  const apiUrl = (settings.SHOPIFY_API_URL ?? `https://${shop}`).replace(/\/$/, '')
  const secret = settings.SHOPIFY_APP_SECRET
  const common = { apiUrl, cacheTtlMs: ANSWER_TTL_MS, ...(dispatcher ? { dispatcher } : {}) }

  const customerAccount: CustomerAccountVerifier | null = shop ? createCustomerAccountVerifier(common) : null
  const storefront: StorefrontVerifier | null =
    shop && settings.SHOPIFY_STOREFRONT_TOKEN
      ? createStorefrontVerifier({
          ...common,
          apiVersion: settings.SHOPIFY_STOREFRONT_API_VERSION,
          storefrontToken: settings.SHOPIFY_STOREFRONT_TOKEN,
        })
      : null
  const sessionToken: SessionTokenVerifier | null =
    shop && secret && settings.SHOPIFY_APP_CLIENT_ID
      ? createSessionTokenVerifier({ appSecret: secret, clientId: settings.SHOPIFY_APP_CLIENT_ID, shopDomain: shop })
      : null
  const proxy =
    shop && secret ? { appSecret: secret, shopDomain: shop, maxAgeS: settings.SHOPIFY_APP_PROXY_MAX_AGE_S } : null

  const methods = Object.freeze({
    customer_account_access_token: customerAccount !== null,
    storefront_customer_access_token: storefront !== null,
    session_token: sessionToken !== null,
    app_proxy: proxy !== null,
  })

  return {
    shopDomain: shop,
    methods,
    async verify(method, credential) {
      if (method === 'session_token') {
        if (!sessionToken) throw new Error('session tokens are not enabled')
        return sessionToken(credential)
      }
      const verifier = method === 'customer_account_access_token' ? customerAccount : storefront
      if (!verifier) throw new Error(`${method} is not enabled`)
      const signal = AbortSignal.timeout(settings.SHOPIFY_TIMEOUT_MS)
      try {
        return await verifier(credential, signal)
      } catch (error) {
        // An abort between calls (after discovery, say) surfaces as whatever was in flight: call it what it is.
        if (signal.aborted && !(error instanceof ShopifyUnavailable)) {
          throw new ShopifyUnavailable('timeout', 'Shopify did not answer in time')
        }
        throw error
      }
    },
    verifyProxy(rawQuery) {
      if (!proxy) throw new Error('app-proxy requests are not enabled')
      return verifyAppProxyQuery(rawQuery, proxy)
    },
  }
}
