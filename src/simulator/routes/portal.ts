import type { FastifyInstance } from 'fastify'
import type { Simulator } from '../context.ts'

/**
 * A stand-in for Recharge's hosted customer portal (`/portal/<customer hash>/subscriptions`), so a demo's
 * "Manage Subscriptions" link lands on a real page. Not behind the token check: the hash is the credential.
 */
export async function portalRoutes(app: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  app.get('/portal/:hash/subscriptions', async (request, reply) => {
    const { hash } = request.params as { hash: string }
    const state = sim.state
    const customer = [...state.customers.values()].find((candidate) => candidate.hash === hash)
    reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').type('text/html; charset=utf-8')
    if (!customer)
      return reply.code(404).send(page('Customer portal not found', '<p>No customer has this portal link.</p>'))
    const rows = [...state.subscriptions.values()]
      .filter((subscription) => subscription.customer_id === customer.id)
      .map(
        (subscription) =>
          `<tr><td>${escapeHtml(subscription.product_title)}</td><td>${escapeHtml(subscription.variant_title)}</td>` +
          `<td>${subscription.quantity}</td><td>${escapeHtml(subscription.price)} ${escapeHtml(state.options.currency)}</td>` +
          `<td>every ${subscription.order_interval_frequency} ${subscription.order_interval_unit}(s)</td>` +
          `<td>${escapeHtml(subscription.status)}</td><td>${escapeHtml(subscription.next_charge_scheduled_at ?? '—')}</td></tr>`,
      )
      .join('')
    return page(
      `Subscriptions of ${customer.first_name} ${customer.last_name}`,
      rows
        ? `<table><thead><tr><th>Product</th><th>Variant</th><th>Qty</th><th>Price</th><th>Frequency</th><th>Status</th><th>Next charge</th></tr></thead><tbody>${rows}</tbody></table>`
        : '<p>No subscriptions yet.</p>',
    )
  })
}

function page(title: string, content: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Recharge customer portal (simulator)</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:.4rem .8rem;text-align:left}small{color:#777}</style>
</head><body><p><small>Recharge customer portal (simulator)</small></p><h1>${escapeHtml(title)}</h1>${content}</body></html>`
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}
