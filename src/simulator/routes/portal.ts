import type { FastifyInstance } from 'fastify'
import type { Simulator } from '../context.ts'
import { escapeHtml, hostedPage, hostedPageHeaders } from './html.ts'

const PRODUCT = 'Recharge customer portal'

/**
 * A stand-in for Recharge's hosted customer portal (`/portal/<customer hash>/subscriptions`), so a demo's
 * "Manage Subscriptions" link lands on a real page. Not behind the token check: the hash is the credential.
 */
export async function portalRoutes(app: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  app.get('/portal/:hash/subscriptions', async (request, reply) => {
    const { hash } = request.params as { hash: string }
    const state = sim.state
    const customer = [...state.customers.values()].find((candidate) => candidate.hash === hash)
    hostedPageHeaders(reply)
    if (!customer)
      return reply
        .code(404)
        .send(hostedPage(PRODUCT, 'Customer portal not found', '<p>No customer has this portal link.</p>'))
    const rows = [...state.subscriptions.values()]
      .filter((subscription) => subscription.customer_id === customer.id)
      .map(
        (subscription) =>
          `<tr><td>${escapeHtml(subscription.product_title)}<br><span class="muted">${escapeHtml(subscription.variant_title)}</span></td>` +
          `<td class="num">${subscription.quantity}</td><td class="num">${escapeHtml(subscription.price)} ${escapeHtml(state.options.currency)}</td>` +
          `<td>every ${subscription.order_interval_frequency} ${subscription.order_interval_unit}(s)</td>` +
          `<td>${escapeHtml(subscription.status)}</td><td>${escapeHtml(subscription.next_charge_scheduled_at ?? '—')}</td></tr>`,
      )
      .join('')
    return hostedPage(
      PRODUCT,
      `Subscriptions of ${customer.first_name} ${customer.last_name}`,
      rows
        ? `<table><thead><tr><th>Product</th><th class="num">Qty</th><th class="num">Price</th><th>Frequency</th><th>Status</th><th>Next charge</th></tr></thead><tbody>${rows}</tbody></table>`
        : '<p>No subscriptions yet.</p>',
    )
  })
}
