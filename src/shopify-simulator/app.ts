import Fastify, { type FastifyInstance } from 'fastify'
import { shopifyApiRoutes } from './api-routes.ts'
import { shopifyControlRoutes } from './control-routes.ts'
import { resolveShopifyOptions, type ShopifySimulatorOptions } from './options.ts'
import { ShopifyState } from './state.ts'

declare module 'fastify' {
  interface FastifyInstance {
    shopifySim: ShopifyState
  }
}

/**
 * The Shopify stand-in as a Fastify app (never listens by itself; see server.ts / embedded.ts): the Customer Account
 * API (with its discovery document) and the Storefront API customer query for seeded shoppers whose ids are the
 * Recharge simulator's `external_customer_id`s, plus a control API to issue, expire and revoke credentials and to make
 * answers slow or failing. No logging: it is also the upstream of tests that count log lines.
 */
export async function buildShopifySimulator(options: ShopifySimulatorOptions = {}): Promise<FastifyInstance> {
  const state = new ShopifyState(resolveShopifyOptions(options))
  const app = Fastify({ logger: false, forceCloseConnections: true })
  app.decorate('shopifySim', state)
  await app.register(shopifyControlRoutes, { state })
  await app.register(shopifyApiRoutes, { state })
  return app
}
