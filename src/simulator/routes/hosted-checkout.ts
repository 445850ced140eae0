import type { FastifyInstance } from 'fastify'
import { parseMoney } from '../../infra/money.ts'
import { discountOf } from '../checkout-rules.ts'
import type { Simulator } from '../context.ts'
import type { SimState } from '../state.ts'
import type { Checkout, CheckoutLineItem, PostalAddress } from '../types.ts'
import { escapeHtml, hostedPage, hostedPageHeaders } from './html.ts'

const PRODUCT = 'Recharge checkout'

/**
 * A stand-in for Recharge's hosted checkout (`https://checkout.rechargeapps.com/r/checkout/<token>`), so the
 * `checkout_url` a bridge hands out in demo mode (`<simulator>/r/checkout/<token>`) leads to a real page: the
 * checkout's lines, totals and status, read from the simulator's state. It takes no payment (a storefront charges
 * through `POST /checkouts/{token}/charge`). Not behind the token check, like the portal: the checkout token is the
 * credential. Query parameters (Recharge's links carry `?myshopify_domain=…`) are ignored.
 */
export async function hostedCheckoutRoutes(app: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  app.get('/r/checkout/:token', async (request, reply) => {
    const { token } = request.params as { token: string }
    const state = sim.state
    const checkout = state.checkouts.get(token)
    hostedPageHeaders(reply)
    if (!checkout)
      return reply
        .code(404)
        .send(
          hostedPage(
            PRODUCT,
            'Checkout not found',
            '<p>No checkout has this link. It may have been mistyped, or the simulator was reset since it was made.</p>',
          ),
        )
    return hostedPage(PRODUCT, checkout.completed_at ? 'Order confirmed' : 'Checkout', checkoutBody(state, checkout))
  })
}

function checkoutBody(state: SimState, checkout: Checkout): string {
  const money = moneyFormatter(checkout.currency)
  const status = checkout.completed_at
    ? `<p><span class="status paid">Paid</span> ${checkout.order_id === null ? '' : `Order #${checkout.order_id} · `}` +
      `<span class="muted">${escapeHtml(formatTimestamp(checkout.completed_at))}</span></p>`
    : '<p><span class="status">Awaiting payment</span></p>'
  const lines = checkout.line_items.map((line) => lineRow(line, money)).join('')
  return `${status}
<table>
<thead><tr><th>Item</th><th class="num">Qty</th><th class="num">Unit price</th><th class="num">Total</th></tr></thead>
<tbody>${lines}</tbody>
</table>
<table class="totals">${totalRows(state, checkout, money)}</table>
${deliveryBlock(checkout)}
<p class="muted">This page stands in for Recharge's hosted checkout. It takes no payment: the storefront charges this
checkout through the Checkouts API.</p>`
}

function lineRow(line: CheckoutLineItem, money: (amount: string) => string): string {
  const plan =
    line.purchase_item_type === 'subscription'
      ? `Subscription · delivered every ${plural(line.order_interval_frequency ?? 1, line.order_interval_unit ?? 'month')}`
      : 'One-time purchase'
  const variant = line.variant_title ? `${escapeHtml(line.variant_title)} · ` : ''
  return (
    `<tr><td>${escapeHtml(line.product_title)}<br><span class="muted">${variant}${escapeHtml(plan)}</span></td>` +
    `<td class="num">${line.quantity}</td><td class="num">${money(line.unit_price)}</td>` +
    `<td class="num">${money(line.total_price)}</td></tr>`
  )
}

function totalRows(state: SimState, checkout: Checkout, money: (amount: string) => string): string {
  const row = (label: string, value: string, className = '') =>
    `<tr${className ? ` class="${className}"` : ''}><td>${label}</td><td class="num">${value}</td></tr>`
  const rows = [row('Subtotal', money(checkout.subtotal_price))]
  if (checkout.applied_discount) {
    const amount = state.money(discountOf(state, checkout))
    rows.push(
      row(`Discount <span class="muted">(${escapeHtml(checkout.applied_discount.code)})</span>`, `−${money(amount)}`),
    )
  }
  if (checkout.shipping_line) {
    rows.push(
      row(
        `Shipping <span class="muted">(${escapeHtml(checkout.shipping_line.title)})</span>`,
        money(checkout.shipping_line.price),
      ),
    )
  } else if (checkout.requires_shipping) {
    rows.push(row('Shipping', '<span class="muted">chosen after the address</span>'))
  }
  if ((parseMoney(checkout.total_tax, state.decimals) ?? 0) > 0) rows.push(row('Tax', money(checkout.total_tax)))
  rows.push(row('Total', money(checkout.total_price), 'grand'))
  return rows.join('')
}

function deliveryBlock(checkout: Checkout): string {
  const parts: string[] = []
  if (checkout.email) parts.push(`<p>${escapeHtml(checkout.email)}</p>`)
  if (checkout.shipping_address) parts.push(`<address>${postalLines(checkout.shipping_address)}</address>`)
  return parts.length > 0 ? `<h2>Contact and delivery</h2>${parts.join('')}` : ''
}

function postalLines(address: PostalAddress): string {
  const name = [address.first_name, address.last_name].filter(Boolean).join(' ')
  const region = [address.province, address.zip].filter(Boolean).join(' ')
  const city = [address.city, region].filter(Boolean).join(', ')
  return [name, address.company, address.address1, address.address2, city, address.country_code]
    .filter((part): part is string => Boolean(part))
    .map(escapeHtml)
    .join('<br>')
}

/** "22 Nov 2026, 14:05 UTC" (the raw timestamp when it does not parse). */
function formatTimestamp(timestamp: string): string {
  const date = new Date(timestamp)
  if (Number.isNaN(date.getTime())) return timestamp
  const text = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' })
  return `${text.format(date)} UTC`
}

function plural(count: number, unit: string): string {
  return count === 1 ? unit : `${count} ${unit}s`
}

/** "€16.20"-style amounts; the plain "16.20 XYZ" when the runtime does not know the currency. */
function moneyFormatter(currency: string): (amount: string) => string {
  let format: Intl.NumberFormat | null = null
  try {
    format = new Intl.NumberFormat('en-US', { style: 'currency', currency })
  } catch {
    format = null
  }
  return (amount) => escapeHtml(format ? format.format(Number(amount)) : `${amount} ${currency}`)
}
