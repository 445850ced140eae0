/**
 * Settings of the Shopify stand-in. The defaults describe one demo shop; tests pass their own secrets so a credential
 * minted for one test's shop never verifies against another's.
 */
export interface ShopifySimulatorOptions {
  /** The shop's permanent domain (`shop` of app-proxy requests, `dest` of session tokens). */
  shopDomain?: string
  /** The app's shared secret (app-proxy signatures, session tokens). */
  appSecret?: string
  /** The app's client id (`aud` of session tokens). */
  clientId?: string
  /** The merchant's Storefront API access token (`X-Shopify-Storefront-Access-Token`). */
  storefrontToken?: string
  /** Customer Account API version named in the discovered GraphQL URL. */
  customerAccountApiVersion?: string
  /** Lifetime of issued access tokens when the caller does not ask for another (seconds). */
  tokenLifetimeS?: number
}

export type ResolvedShopifyOptions = Required<ShopifySimulatorOptions>

export const SHOPIFY_SIM_DEFAULTS: ResolvedShopifyOptions = {
  shopDomain: 'bridge-demo.myshopify.com',
  appSecret: 'shpss_simulator_app_secret_0123456789',
  clientId: 'sim-client-id-0123456789abcdef',
  storefrontToken: 'sim_storefront_token_0123456789abcdef',
  customerAccountApiVersion: '2025-07',
  tokenLifetimeS: 3600,
}

export function resolveShopifyOptions(options: ShopifySimulatorOptions = {}): ResolvedShopifyOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined))
  return { ...SHOPIFY_SIM_DEFAULTS, ...defined }
}

/** SHOPIFY_SIM_* variables of the standalone stand-in (docs/simulator.md). */
export function shopifyOptionsFromEnv(env: NodeJS.ProcessEnv): ShopifySimulatorOptions {
  return {
    ...(env.SHOPIFY_SIM_SHOP_DOMAIN ? { shopDomain: env.SHOPIFY_SIM_SHOP_DOMAIN } : {}),
    ...(env.SHOPIFY_SIM_APP_SECRET ? { appSecret: env.SHOPIFY_SIM_APP_SECRET } : {}),
    ...(env.SHOPIFY_SIM_CLIENT_ID ? { clientId: env.SHOPIFY_SIM_CLIENT_ID } : {}),
    ...(env.SHOPIFY_SIM_STOREFRONT_TOKEN ? { storefrontToken: env.SHOPIFY_SIM_STOREFRONT_TOKEN } : {}),
  }
}
