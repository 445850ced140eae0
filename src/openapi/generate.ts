import { writeFileSync } from 'node:fs'
import { buildApp } from '../app.ts'
import { loadConfig } from '../config.ts'

/**
 * The OpenAPI document as the routes define it. Built from a fixed config (no env) so the output only changes when a
 * route or schema does; `npm run openapi` writes it, and a test fails when the committed copy drifts.
 */
export async function generateOpenApi(): Promise<string> {
  const app = await buildApp(
    loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      CUSTOMER_TOKEN_SECRET: 'openapi-generation-only-0123456789abcdef',
      ADMIN_API_KEY: 'openapi-generation-only-0123456789',
      RECHARGE_API_TOKEN: 'openapi-generation-only',
      RECHARGE_API_URL: 'http://127.0.0.1:9',
      // Sign in with Shopify on, so the document shows its app-proxy route too.
      SHOPIFY_SHOP_DOMAIN: 'openapi-generation.myshopify.com',
      SHOPIFY_APP_SECRET: 'openapi-generation-only-secret',
    }),
    { redis: null, backgroundWorkers: false },
  )
  await app.ready()
  const document = `${JSON.stringify(app.swagger(), null, 2)}\n`
  await app.close()
  return document
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const target = new URL('../../openapi/openapi.json', import.meta.url)
  writeFileSync(target, await generateOpenApi())
  process.stdout.write(`wrote ${target.pathname}\n`)
}
