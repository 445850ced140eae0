import type { FastifyInstance } from 'fastify'
import type { Simulator } from '../context.ts'

/** `GET /store` and `GET /token_information` (the calling token's name and scopes; never the token itself). */
export async function storeRoutes(app: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  app.get('/store', async () => ({ store: sim.state.store }))

  app.get('/token_information', async (request) => {
    const token = String(request.headers['x-recharge-access-token'] ?? '')
    const index = Math.max(0, sim.options.apiTokens.indexOf(token))
    return {
      token_information: {
        client_id: 1000 + index,
        contact_email: sim.state.store.email,
        name: index === 0 ? 'recharge-bridge simulator token' : `recharge-bridge simulator token ${index + 1}`,
        scopes: SCOPES,
      },
    }
  })
}

const SCOPES = [
  'read_accounts',
  'read_batches',
  'write_batches',
  'read_checkouts',
  'write_checkouts',
  'read_customers',
  'write_customers',
  'read_discounts',
  'write_discounts',
  'read_events',
  'write_notifications',
  'read_orders',
  'write_orders',
  'read_payment_methods',
  'write_payment_methods',
  'read_plans',
  'write_plans',
  'read_products',
  'write_products',
  'read_store',
  'read_subscriptions',
  'write_subscriptions',
  'read_webhooks',
  'write_webhooks',
]
