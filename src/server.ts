import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.ts'
import { type Config, ConfigError, loadConfig } from './config.ts'
import { configSummary } from './config-summary.ts'
import type { EmbeddedShopifySimulator } from './shopify-simulator/embedded.ts'
import { PolicyError } from './shopper/policy.ts'
import type { EmbeddedSimulator } from './simulator/embedded.ts'

/**
 * Process entry: config → (demo: embedded simulator) → app → listen. SIGTERM/SIGINT close the app gracefully:
 * new requests get 503, in-flight ones finish within SHUTDOWN_GRACE_MS, then the process exits 0.
 */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config: Config
  try {
    config = loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`recharge-bridge: cannot start.\n${error.message}\n`)
      process.exitCode = 78 // EX_CONFIG
      return
    }
    throw error
  }

  let simulator: EmbeddedSimulator | undefined
  if (config.demoMode) {
    // Loaded only here: a production process never loads the simulator's modules (test/e2e/server-modules.test.ts).
    const { startEmbeddedSimulator } = await import('./simulator/embedded.ts')
    simulator = await startEmbeddedSimulator()
    config = Object.freeze({
      ...config,
      RECHARGE_API_URL: simulator.url,
      RECHARGE_API_TOKEN: simulator.apiToken,
      RECHARGE_WEBHOOK_SECRET: config.RECHARGE_WEBHOOK_SECRET ?? simulator.clientSecret,
      RECHARGE_STORE_SUBDOMAIN: config.RECHARGE_STORE_SUBDOMAIN ?? simulator.storeSubdomain,
    })
  }

  let shopify: EmbeddedShopifySimulator | undefined
  if (config.demoMode && !config.SHOPIFY_SHOP_DOMAIN) {
    // The Shopify stand-in too, so the demo storefront's "Sign in with Shopify" has a Shopify to sign in with.
    const { startEmbeddedShopifySimulator } = await import('./shopify-simulator/embedded.ts')
    shopify = await startEmbeddedShopifySimulator()
    config = Object.freeze({
      ...config,
      SHOPIFY_SHOP_DOMAIN: shopify.options.shopDomain,
      SHOPIFY_API_URL: shopify.url,
      SHOPIFY_APP_SECRET: shopify.options.appSecret,
      SHOPIFY_APP_CLIENT_ID: shopify.options.clientId,
      SHOPIFY_STOREFRONT_TOKEN: shopify.options.storefrontToken,
    })
  }

  let app: Awaited<ReturnType<typeof buildApp>>
  try {
    app = await buildApp(config)
  } catch (error) {
    // Start-up problems the operator must fix (a bad POLICY_FILE, say) get one clear message, not a stack.
    if (error instanceof PolicyError) {
      process.stderr.write(`recharge-bridge: cannot start.\n${error.message}\n`)
      await simulator?.close()
      await shopify?.close()
      process.exitCode = 78 // EX_CONFIG
      return
    }
    throw error
  }
  closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'closing after an unexpected error')
    else app.log.info({ signal }, 'shutting down: finishing in-flight requests')
    await app.close()
    await simulator?.close()
    await shopify?.close()
  })

  await app.listen({ port: config.PORT, host: config.HOST })
  app.log.info({ settings: configSummary(config) }, 'effective configuration')
  if (config.NODE_ENV === 'production' && !config.METRICS_TOKEN && config.METRICS_PORT === undefined) {
    app.log.warn('/metrics is open on the API port: set METRICS_TOKEN or METRICS_PORT (docs/production.md)')
  }
  if (config.demoMode) {
    const address = app.server.address()
    const port = typeof address === 'object' && address ? address.port : config.PORT
    const base = `http://localhost:${port}`
    process.stdout.write(
      [
        '',
        'recharge-bridge is running in demo mode (embedded Recharge simulator, in-process state).',
        `  Demo storefront:  ${base}/demo`,
        `  API reference:    ${base}/docs`,
        `  OpenAPI:          ${base}/openapi.json`,
        `  Simulator:        ${config.RECHARGE_API_URL}`,
        ...(shopify ? [`  Shopify stand-in: ${shopify.url} (shop ${shopify.options.shopDomain})`] : []),
        `  Demo admin key:   ${config.ADMIN_API_KEY}`,
        '  Demo shoppers:    alice@example.com, bob@example.com (sign in on the demo storefront)',
        `  Customer token:   npx recharge-bridge token mint --server ${base} --admin-key ${config.ADMIN_API_KEY} --email alice@example.com`,
        'Set RECHARGE_API_TOKEN (and CUSTOMER_TOKEN_SECRET, ADMIN_API_KEY) to talk to a real Recharge store.',
        '',
      ].join('\n'),
    )
  }
}

await main()
