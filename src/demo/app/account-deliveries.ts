/// <reference lib="dom.iterable" />
import { newIdempotencyKey, type paths } from '../../client/index.ts'
import {
  announceChange,
  bridge,
  loadWhenOpened,
  longDate,
  money,
  onChange,
  required,
  setStatus,
  showError,
  whileBusy,
} from './common.ts'

/**
 * The account page's deliveries section: "add to next box" from the catalog (one-time add-ons, priced by the
 * bridge from the catalog), the one-time items with remove, and the delivery schedule with Skip / Restore on each
 * delivery: by its charge when it has one, by date when it has none yet.
 */
type Json<T> = T extends { content: { 'application/json': infer Body } } ? Body : never
type Delivery = Json<paths['/v1/delivery-schedule']['get']['responses'][200]>['deliveries'][number]
type Onetime = Json<paths['/v1/onetimes']['get']['responses'][200]>['onetimes'][number]
type Product = Json<paths['/v1/catalog/products']['get']['responses'][200]>['products'][number]

let wired = false
/** Whether the section has been opened (and so shows the schedule) since the shopper signed in. */
let shown = false

/** Shows the section, folded, for the signed-in shopper (called by account.ts once the account is shown). */
export function setupDeliveries(): void {
  const section = required<HTMLDetailsElement>('[data-deliveries]')
  section.hidden = false
  if (!wired) {
    wired = true
    required<HTMLFormElement>('[data-onetime-form]').addEventListener('submit', (event) => void addOnetime(event))
    // A change made on a subscription card (skip, pause, order now…) shows in the schedule once it is open.
    onChange((part) => {
      if (part !== 'deliveries' && shown) void refresh()
    })
  }
  shown = false
  loadWhenOpened(section, () => {
    shown = true
    return Promise.all([loadProducts(), refresh()])
  })
}

function status(): HTMLElement {
  return required('[data-deliveries-status]')
}

async function refresh(): Promise<void> {
  const [onetimes, schedule] = await Promise.all([bridge.GET('/v1/onetimes'), bridge.GET('/v1/delivery-schedule')])
  if (onetimes.data) renderOnetimes(onetimes.data.onetimes)
  else showError(status(), onetimes.error)
  if (schedule.data) renderSchedule(schedule.data.deliveries)
  else showError(status(), schedule.error)
}

/** Products the catalog sells one-time (a one-time plan, or no subscription plan at all), one option per variant. */
async function loadProducts(): Promise<void> {
  const select = required<HTMLSelectElement>('[data-onetime-variant]')
  const { data } = await bridge.GET('/v1/catalog/products', { params: { query: { limit: 24 } } })
  const sold = (product: Product) =>
    product.plans.some((plan) => plan.type === 'onetime') || product.plans.every((plan) => plan.type === 'onetime')
  const options = (data?.products ?? [])
    .filter(sold)
    .flatMap((product) =>
      product.variants.map(
        (variant) =>
          new Option(
            `${product.title} · ${variant.title} (${money(variant.prices[0]?.unit_price)})`,
            `${product.external_product_id}|${variant.external_variant_id}`,
          ),
      ),
    )
  select.replaceChildren(...options)
}

async function addOnetime(event: SubmitEvent): Promise<void> {
  event.preventDefault()
  const form = event.currentTarget as HTMLFormElement
  const [productId, variantId] = required<HTMLSelectElement>('[data-onetime-variant]', form).value.split('|')
  const quantity = Number((form.elements.namedItem('quantity') as HTMLInputElement).value)
  if (!productId || !variantId) return setStatus(status(), 'Please choose a product.', 'error')
  if (!Number.isInteger(quantity) || quantity < 1) return setStatus(status(), 'Please enter a whole number.', 'error')
  await whileBusy(required<HTMLButtonElement>('button[type="submit"]', form), 'Adding…', async () => {
    const { data, error } = await bridge.POST('/v1/onetimes', {
      params: { header: { 'idempotency-key': newIdempotencyKey() } },
      body: { external_product_id: productId, external_variant_id: variantId, quantity },
    })
    if (!data) return showError(status(), error)
    setStatus(status(), `Added to your delivery of ${longDate(data.next_charge_date)}.`, 'ok')
    await refresh()
  })
}

function renderOnetimes(onetimes: Onetime[]): void {
  const list = required('[data-onetime-list]')
  if (onetimes.length === 0) {
    const empty = document.createElement('li')
    empty.className = 'muted'
    empty.textContent = 'No one-time items yet.'
    list.replaceChildren(empty)
    return
  }
  list.replaceChildren(
    ...onetimes.map((onetime) => {
      const item = document.createElement('li')
      item.className = 'onetime'
      item.dataset.onetimeId = onetime.id
      const text = document.createElement('span')
      text.textContent = `${onetime.quantity} × ${onetime.product_title ?? 'Item'} · ${onetime.variant_title ?? ''} — ${longDate(onetime.next_charge_date)} (${money(onetime.price)} each)`
      const remove = document.createElement('button')
      remove.type = 'button'
      remove.className = 'button link'
      remove.textContent = 'Remove'
      remove.setAttribute('aria-label', `Remove ${onetime.product_title ?? 'item'}`)
      remove.addEventListener('click', () => void removeOnetime(onetime, remove))
      item.append(text, ' ', remove)
      return item
    }),
  )
}

async function removeOnetime(onetime: Onetime, button: HTMLButtonElement): Promise<void> {
  await whileBusy(button, 'Removing…', async () => {
    const { error, response } = await bridge.DELETE('/v1/onetimes/{id}', {
      params: { path: { id: onetime.id }, header: { 'idempotency-key': newIdempotencyKey() } },
    })
    if (!response.ok) return showError(status(), error)
    setStatus(status(), `${onetime.product_title ?? 'Item'} removed.`, 'ok')
    await refresh()
    announceChange('deliveries')
  })
}

function renderSchedule(deliveries: Delivery[]): void {
  const list = required('[data-delivery-list]')
  list.replaceChildren(...deliveries.map(renderDelivery))
  if (deliveries.length === 0) setStatus(status(), 'No upcoming deliveries.')
}

function renderDelivery(delivery: Delivery): HTMLLIElement {
  const item = document.createElement('li')
  item.className = 'delivery card'
  item.dataset.deliveryDate = delivery.date
  item.dataset.status = delivery.status
  const head = document.createElement('div')
  head.className = 'delivery-head'
  const title = document.createElement('h4')
  title.textContent = longDate(delivery.date)
  const pill = document.createElement('span')
  pill.className = `pill${delivery.status === 'skipped' ? ' cancelled' : ''}`
  pill.textContent = delivery.status.replace('_', ' ')
  head.append(title, pill)
  const lines = document.createElement('ul')
  lines.className = 'delivery-lines'
  for (const line of delivery.lines) {
    const entry = document.createElement('li')
    entry.dataset.kind = line.kind
    entry.classList.toggle('is-skipped', line.skipped)
    const tags = [line.kind === 'onetime' ? 'one-time' : '', line.skipped ? 'skipped' : ''].filter(Boolean)
    entry.textContent = `${line.quantity ?? 1} × ${line.title ?? 'Item'}${line.variant_title ? ` · ${line.variant_title}` : ''} — ${money(line.price)}${tags.length ? ` (${tags.join(', ')})` : ''}`
    lines.append(entry)
  }
  item.append(head, lines)
  const actions = document.createElement('div')
  actions.className = 'delivery-actions'
  if (delivery.skippable) actions.append(actionButton(delivery, 'skip'))
  if (delivery.unskippable) actions.append(actionButton(delivery, 'unskip'))
  item.append(actions)
  return item
}

function actionButton(delivery: Delivery, change: 'skip' | 'unskip'): HTMLButtonElement {
  const button = document.createElement('button')
  button.type = 'button'
  button.className = 'button'
  button.textContent = change === 'skip' ? 'Skip' : 'Unskip'
  button.setAttribute('aria-label', `${button.textContent} the delivery of ${longDate(delivery.date)}`)
  button.addEventListener('click', () => void changeDelivery(delivery, change, button))
  return button
}

/** Skip by the delivery's queued charge, or by date when it has no charge yet; restore by its skipped charge. */
async function changeDelivery(delivery: Delivery, change: 'skip' | 'unskip', button: HTMLButtonElement) {
  const header = { 'idempotency-key': newIdempotencyKey() }
  await whileBusy(button, change === 'skip' ? 'Skipping…' : 'Restoring…', async () => {
    const chargeId = change === 'skip' ? delivery.charge_id : delivery.skipped_charge_id
    const result = chargeId
      ? await bridge.POST(change === 'skip' ? '/v1/charges/{id}/skip' : '/v1/charges/{id}/unskip', {
          params: { path: { id: chargeId }, header },
          body: {},
        })
      : await bridge.POST('/v1/delivery-schedule/skip', {
          params: { header },
          body: { date: delivery.date, address_id: delivery.address_id },
        })
    if (!result.data) return showError(status(), result.error)
    setStatus(status(), `Delivery of ${longDate(delivery.date)} ${change === 'skip' ? 'skipped' : 'restored'}.`, 'ok')
    await refresh()
    announceChange('deliveries')
  })
}
