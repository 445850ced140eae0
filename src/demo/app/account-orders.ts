/// <reference lib="dom.iterable" />
import type { paths } from '../../client/index.ts'
import { bridge, longDate, money, required, setStatus, showError, whileBusy } from './common.ts'

/** The order history on the account page: pages of GET /v1/orders (next_cursor), and one order's details. */
type Json<T> = T extends { content: { 'application/json': infer Body } } ? Body : never
type Order = Json<paths['/v1/orders']['get']['responses'][200]>['orders'][number]

const PAGE_SIZE = 5
let nextCursor: string | null = null

export async function loadOrders(): Promise<void> {
  nextCursor = null
  required('[data-order-list]').replaceChildren()
  required('[data-order-detail]').hidden = true
  await loadPage()
  const more = required<HTMLButtonElement>('[data-orders-more]')
  more.onclick = () => void whileBusy(more, 'Loading…', loadPage)
}

async function loadPage(): Promise<void> {
  const status = required('[data-orders-status]')
  const { data, error } = await bridge.GET('/v1/orders', {
    params: { query: { limit: PAGE_SIZE, ...(nextCursor ? { cursor: nextCursor } : {}) } },
  })
  if (!data) {
    showError(status, error)
    return
  }
  const list = required('[data-order-list]')
  list.append(...data.orders.map(renderOrder))
  nextCursor = data.next_cursor
  required('[data-orders-more]').hidden = nextCursor === null
  setStatus(status, list.childElementCount === 0 ? 'No orders yet.' : '')
}

function renderOrder(order: Order): HTMLLIElement {
  const item = document.createElement('li')
  item.dataset.orderId = order.id
  const label = document.createElement('span')
  const number = order.external_order_number ? `#${order.external_order_number}` : `Order ${order.id}`
  label.textContent = `${number} · ${longDate(order.processed_at)} · ${money(order.total_price)}`
  const button = document.createElement('button')
  button.type = 'button'
  button.className = 'button'
  button.textContent = 'View details'
  button.setAttribute('aria-label', `View details of ${number}`)
  button.addEventListener('click', () => void whileBusy(button, 'Opening…', () => showOrder(order.id)))
  item.append(label, button)
  return item
}

async function showOrder(id: string): Promise<void> {
  const status = required('[data-orders-status]')
  const { data, error } = await bridge.GET('/v1/orders/{id}', { params: { path: { id } } })
  if (!data) {
    showError(status, error)
    return
  }
  const panel = required('[data-order-detail]')
  const number = data.external_order_number ? `#${data.external_order_number}` : `Order ${data.id}`
  required('[data-order-detail-title]', panel).textContent = `${number}, ${longDate(data.processed_at)}`
  const facts = required('[data-order-detail-facts]', panel)
  facts.replaceChildren(
    ...[
      ['Status', data.status],
      ['Subtotal', money(data.subtotal_price)],
      ['Total', money(data.total_price)],
    ].map(([term, value]) => {
      const row = document.createElement('div')
      const dt = document.createElement('dt')
      const dd = document.createElement('dd')
      dt.textContent = term ?? ''
      dd.textContent = value ?? ''
      row.append(dt, dd)
      return row
    }),
  )
  required('[data-order-detail-lines]', panel).replaceChildren(
    ...data.line_items.map((line) => {
      const item = document.createElement('li')
      const variant = line.variant_title ? ` (${line.variant_title})` : ''
      item.textContent = `${line.quantity ?? 1} × ${line.title ?? 'Item'}${variant} · ${money(line.total_price)}`
      return item
    }),
  )
  const address = data.shipping_address
  required('[data-order-detail-address]', panel).textContent = address
    ? `Shipped to ${[address.first_name, address.last_name].filter(Boolean).join(' ')}, ${[address.address1, address.city, address.zip].filter(Boolean).join(', ')}`
    : ''
  panel.hidden = false
  panel.focus()
  setStatus(status, '')
}
