import { pathToFileURL } from 'node:url'
import { buildShopifySimulator } from './app.ts'
import { shopifyOptionsFromEnv } from './options.ts'

/**
 * Standalone Shopify stand-in: `npm run shopify-simulator`. Env: SHOPIFY_SIM_PORT or PORT (4020), HOST (127.0.0.1) and
 * the SHOPIFY_SIM_* variables documented in docs/simulator.md.
 */
export async function startShopifySimulatorServer(env: NodeJS.ProcessEnv = process.env, port?: number) {
  const app = await buildShopifySimulator(shopifyOptionsFromEnv(env))
  const address = await app.listen({
    port: port ?? Number(env.SHOPIFY_SIM_PORT ?? env.PORT ?? 4020),
    host: env.HOST ?? '127.0.0.1',
  })
  const close = async () => {
    await app.close()
    process.exit(0)
  }
  process.once('SIGINT', close)
  process.once('SIGTERM', close)
  const { options } = app.shopifySim
  process.stdout.write(
    [
      `Shopify stand-in listening on ${address} (shop ${options.shopDomain})`,
      `  point the bridge at it: SHOPIFY_API_URL=${address} SHOPIFY_SHOP_DOMAIN=${options.shopDomain} SHOPIFY_APP_SECRET=${options.appSecret} SHOPIFY_APP_CLIENT_ID=${options.clientId} SHOPIFY_STOREFRONT_TOKEN=${options.storefrontToken}`,
      `  issue a shopper token: curl -XPOST ${address}/__sim/tokens -H 'content-type: application/json' -d '{"api":"customer_account","email":"alice@example.com"}'`,
      '',
    ].join('\n'),
  )
  return app
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href
if (isEntry) {
  try {
    await startShopifySimulatorServer()
  } catch (error) {
    process.stderr.write(`shopify stand-in: cannot start: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = 78
  }
}
