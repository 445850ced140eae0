import type { FastifyInstance } from 'fastify'
import type { Simulator } from '../context.ts'
import type { SimState } from '../state.ts'
import type { Customer } from '../types.ts'
import { escapeHtml, hostedPage, hostedPageHeaders } from './html.ts'

const PRODUCT = 'Recharge customer portal'

type Section = (state: SimState, customer: Customer) => { title: string; body: string }

/**
 * A stand-in for Recharge's hosted customer portal (`/portal/<customer hash>/<page>`), so a demo's "Manage
 * Subscriptions" link and the account's deep links land on a real page. Pages: `subscriptions` (the original one),
 * `overview`, `orders`, `payment_methods` and `addresses`. Not behind the token check: the hash is the credential.
 */
export async function portalRoutes(app: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  app.get('/portal/:hash/:page', async (request, reply) => {
    const { hash, page } = request.params as { hash: string; page: string }
    const state = sim.state
    const customer = [...state.customers.values()].find((candidate) => candidate.hash === hash)
    const section = Object.hasOwn(SECTIONS, page) ? SECTIONS[page] : undefined
    hostedPageHeaders(reply)
    if (!customer || !section)
      return reply
        .code(404)
        .send(hostedPage(PRODUCT, 'Customer portal not found', '<p>No customer has this portal link.</p>'))
    const { title, body } = section(state, customer)
    return hostedPage(PRODUCT, title, body)
  })
}

const name = (customer: Customer) => `${customer.first_name} ${customer.last_name}`

function table(headers: string[], rows: string[], empty: string): string {
  if (rows.length === 0) return `<p>${empty}</p>`
  const head = headers.map((header) =>
    header.startsWith('#') ? `<th class="num">${header.slice(1)}</th>` : `<th>${header}</th>`,
  )
  return `<table><thead><tr>${head.join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`
}

const subscriptions: Section = (state, customer) => ({
  title: `Subscriptions of ${name(customer)}`,
  body: table(
    ['Product', '#Qty', '#Price', 'Frequency', 'Status', 'Next charge'],
    [...state.subscriptions.values()]
      .filter((subscription) => subscription.customer_id === customer.id)
      .map(
        (subscription) =>
          `<tr><td>${escapeHtml(subscription.product_title)}<br><span class="muted">${escapeHtml(subscription.variant_title)}</span></td>` +
          `<td class="num">${subscription.quantity}</td><td class="num">${escapeHtml(subscription.price)} ${escapeHtml(state.options.currency)}</td>` +
          `<td>every ${subscription.order_interval_frequency} ${subscription.order_interval_unit}(s)</td>` +
          `<td>${escapeHtml(subscription.status)}</td><td>${escapeHtml(subscription.next_charge_scheduled_at ?? '—')}</td></tr>`,
      ),
    'No subscriptions yet.',
  ),
})

const overview: Section = (state, customer) => {
  const active = [...state.subscriptions.values()].filter(
    (subscription) => subscription.customer_id === customer.id && subscription.status === 'active',
  ).length
  const failing = customer.has_payment_method_in_dunning
    ? '<p><strong>A payment failed.</strong> Update your payment method to keep your deliveries.</p>'
    : ''
  return {
    title: `Account of ${name(customer)}`,
    body: `${failing}<p>${active} active subscription(s). Signed in as ${escapeHtml(customer.email)}.</p>`,
  }
}

const orders: Section = (state, customer) => ({
  title: `Orders of ${name(customer)}`,
  body: table(
    ['Order', 'Date', '#Total', 'Status'],
    [...state.orders.values()]
      .filter((order) => order.customer.id === customer.id)
      .sort((a, b) => b.id - a.id)
      .map(
        (order) =>
          `<tr><td>#${escapeHtml(order.external_order_number.ecommerce ?? String(order.id))}</td>` +
          `<td>${escapeHtml((order.processed_at ?? order.scheduled_at).slice(0, 10))}</td>` +
          `<td class="num">${escapeHtml(order.total_price)} ${escapeHtml(order.currency)}</td><td>${escapeHtml(order.status)}</td></tr>`,
      ),
    'No orders yet.',
  ),
})

const paymentMethods: Section = (state, customer) => ({
  title: `Payment methods of ${name(customer)}`,
  body: table(
    ['Card', 'Expires', 'Default', 'Status'],
    [...state.paymentMethods.values()]
      .filter((method) => method.customer_id === customer.id)
      .map((method) => {
        const card = method.payment_details
        return (
          `<tr><td>${escapeHtml(card.brand ?? 'card')} •••• ${escapeHtml(card.last4 ?? '')}</td>` +
          `<td>${card.exp_month ?? '—'}/${card.exp_year ?? '—'}</td><td>${method.default ? 'yes' : ''}</td>` +
          `<td>${escapeHtml(method.status ?? '')}</td></tr>`
        )
      }),
    'No payment methods on file.',
  ),
})

const addresses: Section = (state, customer) => ({
  title: `Addresses of ${name(customer)}`,
  body: table(
    ['Address', 'City', 'Zip'],
    [...state.addresses.values()]
      .filter((address) => address.customer_id === customer.id)
      .map(
        (address) =>
          `<tr><td>${escapeHtml(address.address1 ?? '')}</td><td>${escapeHtml(address.city ?? '')}</td>` +
          `<td>${escapeHtml(address.zip ?? '')}</td></tr>`,
      ),
    'No addresses.',
  ),
})

const SECTIONS: Record<string, Section> = {
  overview,
  subscriptions,
  orders,
  payment_methods: paymentMethods,
  addresses,
}
