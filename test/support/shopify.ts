import { randomBytes } from 'node:crypto'
import { buildShopifySimulator } from '../../src/shopify-simulator/app.ts'
import type { ResolvedShopifyOptions, ShopifySimulatorOptions } from '../../src/shopify-simulator/options.ts'
import type { ShopifyFaultRule, ShopifyLedgerEntry, TokenApi } from '../../src/shopify-simulator/state.ts'

/**
 * The Shopify stand-in for tests: a real HTTP server on 127.0.0.1:<ephemeral port>, driven through its control API
 * (`/__sim/*`), with secrets of its own (a credential of one test's shop never verifies on another's). `env` is what a
 * bridge needs to sign shoppers in with it.
 *
 *   const shopify = await startTestShopify()
 *   const app = await harness.bridge(undefined, {}, shopify.env)
 *   const { access_token } = await shopify.issue('customer_account', { email: 'alice@example.com' })
 */
export interface TestShopify {
  url: string
  options: ResolvedShopifyOptions
  env: Record<string, string>
  issue(
    api: TokenApi,
    shopper: { email?: string; customer_id?: string },
    extra?: { expires_in?: number; shop?: string },
  ): Promise<{ access_token: string; expires_at: string; customer_id: string }>
  revoke(accessToken: string): Promise<void>
  sessionToken(
    shopper: { email?: string; customer_id?: string },
    extra?: { expires_in?: number; shop?: string; aud?: string; secret?: string },
  ): Promise<string>
  /** A signed app-proxy query string as Shopify would forward it (no leading `?`). */
  signProxy(body: {
    email?: string
    customer_id?: string
    query?: Record<string, string | string[]>
    timestamp?: number
    shop?: string
    secret?: string
  }): Promise<string>
  setFaults(rules: ShopifyFaultRule[]): Promise<void>
  clearFaults(): Promise<void>
  ledger(): Promise<ShopifyLedgerEntry[]>
  close(): Promise<void>
}

export async function startTestShopify(options: ShopifySimulatorOptions = {}): Promise<TestShopify> {
  const suffix = randomBytes(6).toString('hex')
  const app = await buildShopifySimulator({
    shopDomain: `test-${suffix}.myshopify.com`,
    appSecret: `shpss_test_${suffix}_${randomBytes(8).toString('hex')}`,
    clientId: `client-${suffix}`,
    storefrontToken: `storefront_${suffix}_${randomBytes(8).toString('hex')}`,
    ...options,
  })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  const resolved = app.shopifySim.options

  async function control(method: string, path: string, body?: unknown) {
    const response = await fetch(`${url}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    })
    if (!response.ok) throw new Error(`shopify stand-in ${method} ${path}: ${response.status} ${await response.text()}`)
    // biome-ignore lint/suspicious/noExplicitAny: each caller reads the field it asked for
    return (await response.json()) as any
  }

  return {
    url,
    options: resolved,
    env: {
      SHOPIFY_SHOP_DOMAIN: resolved.shopDomain,
      SHOPIFY_API_URL: url,
      SHOPIFY_APP_SECRET: resolved.appSecret,
      SHOPIFY_APP_CLIENT_ID: resolved.clientId,
      SHOPIFY_STOREFRONT_TOKEN: resolved.storefrontToken,
    },
    issue: (api, shopper, extra = {}) => control('POST', '/__sim/tokens', { api, ...shopper, ...extra }),
    revoke: async (accessToken) => {
      await control('POST', '/__sim/tokens/revoke', { access_token: accessToken })
    },
    sessionToken: async (shopper, extra = {}) =>
      (await control('POST', '/__sim/session-tokens', { ...shopper, ...extra })).session_token,
    signProxy: async (body) => (await control('POST', '/__sim/app-proxy/sign', body)).query,
    setFaults: async (rules) => {
      await control('POST', '/__sim/faults', rules)
    },
    clearFaults: async () => {
      await control('DELETE', '/__sim/faults')
    },
    ledger: async () => (await control('GET', '/__sim/requests')).requests,
    close: () => app.close(),
  }
}
