/// <reference lib="dom.iterable" />
import { newIdempotencyKey, type paths } from '../../client/index.ts'
import {
  bridge,
  initials,
  loadStoreSettings,
  money,
  productTones,
  readSession,
  rememberEmail,
  rememberedEmail,
  required,
  setStatus,
  showError,
  whileBusy,
} from './common.ts'

/**
 * The product page: catalog → subscription widget → cart → checkout → test payment. Prices shown here come from
 * the catalog; the checkout is priced again by the bridge from the same catalog, never from what this page sends.
 */
type Json<T> = T extends { content: { 'application/json': infer Body } } ? Body : never
type ProductPage = Json<paths['/v1/catalog/products']['get']['responses'][200]>
type Product = ProductPage['products'][number]
type Variant = Product['variants'][number]
type Plan = Product['plans'][number]
type Checkout = Json<paths['/v1/checkouts']['post']['responses'][201]>

/** The simulator's test card that always succeeds (like Stripe's tok_visa). */
const TEST_PAYMENT = { payment_processor: 'stripe', payment_token: 'tok_visa' } as const

interface CartLine {
  external_product_id: string
  external_variant_id: string
  quantity: number
  plan_id?: number
  title: string
  detail: string
  unitPrice: string
}

const cartKey = 'rb-demo:cart'
let products: Product[] = []
let selected: Product | undefined
let cart: CartLine[] = loadCart()
let checkout: { token: string; secret: string } | undefined
let widget: Record<string, unknown> = {}

function loadCart(): CartLine[] {
  try {
    const lines = JSON.parse(localStorage.getItem(cartKey) ?? '[]') as unknown
    return Array.isArray(lines) ? (lines as CartLine[]) : []
  } catch {
    return []
  }
}

function saveCart(): void {
  localStorage.setItem(cartKey, JSON.stringify(cart))
}

function priceOf(variant: Variant | undefined) {
  return variant?.prices[0]
}

/**
 * The card's price: the lowest subscription price over every variant ("From … with subscription"), counting only
 * pay-as-you-go subscription plans (a prepaid plan's price covers several deliveries); a product sold only once shows
 * its one-time price ("From" when variants differ).
 */
function cardPrice(product: Product): string {
  const subscriptionIds = new Set(subscriptionPlans(product).map((plan) => plan.id))
  const prices = product.variants.flatMap((variant) => variant.prices.slice(0, 1))
  const subscribed = prices.flatMap((price) =>
    price.plans.filter((plan) => subscriptionIds.has(plan.id)).map((plan) => Number(plan.discounted_price)),
  )
  if (subscribed.length > 0) return `From ${money(Math.min(...subscribed))} with subscription`
  const units = prices.map((price) => Number(price.unit_price)).filter((unit) => Number.isFinite(unit))
  if (units.length === 0) return money(undefined)
  const lowest = Math.min(...units)
  return units.some((unit) => unit !== lowest) ? `From ${money(lowest)}` : money(lowest)
}

function subscriptionPlans(product: Product): Plan[] {
  return product.plans.filter((plan) => plan.type === 'subscription').sort((a, b) => a.sort_order - b.sort_order)
}

function widgetText(key: string, fallback: string): string {
  const value = widget[key]
  return typeof value === 'string' && value.trim() ? textOf(value) : fallback
}

/** Widget settings may carry HTML (`how_it_works`): show its text (line breaks kept), never inject it. */
function textOf(html: string): string {
  const withBreaks = html.replace(/<br\s*\/?>/gi, '\n')
  return new DOMParser().parseFromString(withBreaks, 'text/html').body.textContent?.trim() ?? ''
}

// ---- product list ------------------------------------------------------------------------------------------------

async function loadProducts(): Promise<void> {
  const status = required('[data-products-status]')
  const { data, error } = await bridge.GET('/v1/catalog/products', { params: { query: { limit: 24 } } })
  if (error || !data) {
    showError(status, error)
    return
  }
  products = data.products
  if (products.length === 0) {
    setStatus(status, 'No products yet. Run a catalog sync to publish some.')
    return
  }
  setStatus(status, '')
  renderProductList()
  const wanted = new URLSearchParams(location.hash.slice(1)).get('product')
  selectProduct(products.find((product) => product.external_product_id === wanted) ?? products[0])
}

function renderProductList(): void {
  const list = required('[data-product-list]')
  list.replaceChildren(
    ...products.map((product) => {
      const item = document.createElement('li')
      const button = document.createElement('button')
      button.type = 'button'
      button.className = 'product-card'
      button.dataset.productId = product.external_product_id
      const [toneA, toneB] = productTones(product.external_product_id)
      const thumb = document.createElement('span')
      thumb.className = 'thumb'
      thumb.style.setProperty('--tone-a', toneA)
      thumb.style.setProperty('--tone-b', toneB)
      thumb.textContent = initials(product.title)
      thumb.setAttribute('aria-hidden', 'true')
      const meta = document.createElement('span')
      meta.className = 'meta'
      const name = document.createElement('span')
      name.className = 'name'
      name.textContent = product.title
      const from = document.createElement('span')
      from.className = 'from'
      from.textContent = cardPrice(product)
      meta.append(name, from)
      button.append(thumb, meta)
      button.addEventListener('click', () => {
        selectProduct(product)
        required('[data-product-detail]').scrollIntoView({ behavior: 'smooth', block: 'start' })
      })
      item.append(button)
      return item
    }),
  )
}

// ---- subscription widget ----------------------------------------------------------------------------------------

function selectProduct(product: Product | undefined): void {
  if (!product) return
  selected = product
  history.replaceState(null, '', `#product=${encodeURIComponent(product.external_product_id)}`)
  for (const card of document.querySelectorAll<HTMLElement>('.product-card')) {
    card.setAttribute('aria-pressed', String(card.dataset.productId === product.external_product_id))
  }
  const detail = required('[data-product-detail]')
  detail.hidden = false
  required('[data-product-title]').textContent = product.title
  required('[data-product-description]').textContent = product.description ?? ''
  const media = required('[data-product-image]')
  const [toneA, toneB] = productTones(product.external_product_id)
  media.style.setProperty('--tone-a', toneA)
  media.style.setProperty('--tone-b', toneB)
  media.textContent = initials(product.title)

  const variantSelect = required<HTMLSelectElement>('[data-variant-select]')
  variantSelect.replaceChildren(
    ...product.variants.map(
      (variant) => new Option(variant.title || variant.option_values.join(' / '), variant.external_variant_id),
    ),
  )
  required('[data-variant-field]').hidden = product.variants.length < 2

  const plans = subscriptionPlans(product)
  const frequency = required<HTMLSelectElement>('[data-frequency-select]')
  frequency.replaceChildren(...plans.map((plan) => new Option(plan.title, String(plan.id))))
  required('[data-subscribe-option]').hidden = plans.length === 0
  // The merchant's widget settings decide which option starts selected (Recharge's default: one-time).
  const preferSubscription = plans.length > 0 && widget.select_subscription_first === 'true'
  const radios = document.querySelectorAll<HTMLInputElement>('input[name="purchase"]')
  for (const radio of radios) radio.checked = (radio.value === 'subscribe') === preferSubscription
  required<HTMLInputElement>('#quantity').value = '1'
  setStatus(required('[data-widget-status]'), '')
  renderPrices()
}

function currentChoice(): { variant: Variant | undefined; plan: Plan | undefined; subscribe: boolean } {
  const variantId = required<HTMLSelectElement>('[data-variant-select]').value
  const variant = selected?.variants.find((candidate) => candidate.external_variant_id === variantId)
  const planId = Number(required<HTMLSelectElement>('[data-frequency-select]').value)
  const plan = selected?.plans.find((candidate) => candidate.id === planId)
  const subscribe =
    required<HTMLInputElement>('input[name="purchase"][value="subscribe"]').checked && plan !== undefined
  return { variant, plan, subscribe }
}

function renderPrices(): void {
  const { variant, plan, subscribe } = currentChoice()
  const price = priceOf(variant)
  const planPrice = price?.plans.find((candidate) => candidate.id === plan?.id)
  required('[data-onetime-label]').textContent = widgetText('onetime_message', 'One-time purchase')
  required('[data-onetime-price]').textContent = money(price?.unit_price)
  const discount = plan?.discount_amount && Number(plan.discount_amount) > 0 ? plan : undefined
  required('[data-subscribe-label]').textContent = discount
    ? widgetText('subscribe_message', 'Subscribe & save')
    : widgetText('subscribe_without_discount_message', 'Subscribe')
  const pill = required('[data-save-pill]')
  pill.hidden = !discount
  pill.textContent = discount
    ? discount.discount_type === 'percentage'
      ? `Save ${Number(discount.discount_amount)}%`
      : `Save ${money(discount.discount_amount)}`
    : ''
  required('[data-subscribe-compare]').textContent = discount ? money(price?.unit_price) : ''
  required('[data-subscribe-price]').textContent = money(planPrice?.discounted_price ?? price?.unit_price)
  required('[data-frequency-label]').textContent = widgetText('widget_deliver_every', 'Deliver every')
  required('[data-frequency-field]').hidden = !subscribe
  required('[data-how-it-works]').textContent = subscribe ? widgetText('how_it_works', '') : ''
}

function addToCart(event: SubmitEvent): void {
  event.preventDefault()
  const status = required('[data-widget-status]')
  const { variant, plan, subscribe } = currentChoice()
  const quantity = Number(required<HTMLInputElement>('#quantity').value)
  if (!selected || !variant) return
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > 100) {
    setStatus(status, 'Please choose a quantity between 1 and 100.', 'error')
    return
  }
  const price = priceOf(variant)
  const planPrice = subscribe ? price?.plans.find((candidate) => candidate.id === plan?.id) : undefined
  const variantTitle = selected.variants.length > 1 ? `${variant.title} · ` : ''
  cart.push({
    external_product_id: selected.external_product_id,
    external_variant_id: variant.external_variant_id,
    quantity,
    ...(subscribe && plan ? { plan_id: plan.id } : {}),
    title: selected.title,
    detail: `${variantTitle}${subscribe && plan ? plan.title : 'One-time purchase'}`,
    unitPrice: planPrice?.discounted_price ?? price?.unit_price ?? '0',
  })
  saveCart()
  renderCart()
  setStatus(status, `Added ${selected.title} to your cart.`, 'ok')
}

// ---- cart and checkout ------------------------------------------------------------------------------------------

function renderCart(): void {
  required('[data-cart-count]').textContent = String(cart.reduce((sum, line) => sum + line.quantity, 0))
  required('[data-cart-empty]').hidden = cart.length > 0
  required('[data-checkout-form]').hidden = cart.length === 0
  required('[data-cart-total]').hidden = cart.length === 0
  required('[data-cart-subtotal]').textContent = money(
    cart.reduce((sum, line) => sum + Number(line.unitPrice) * line.quantity, 0),
  )
  required('[data-cart-lines]').replaceChildren(
    ...cart.map((line, index) => {
      const item = document.createElement('li')
      item.className = 'cart-line'
      const title = document.createElement('strong')
      title.textContent = `${line.quantity} × ${line.title}`
      const total = document.createElement('span')
      total.textContent = money(Number(line.unitPrice) * line.quantity)
      const detail = document.createElement('span')
      detail.className = 'detail'
      detail.textContent = line.detail
      const remove = document.createElement('button')
      remove.type = 'button'
      remove.className = 'button link remove'
      remove.textContent = 'Remove'
      remove.setAttribute('aria-label', `Remove ${line.title} from cart`)
      remove.addEventListener('click', () => {
        cart.splice(index, 1)
        saveCart()
        renderCart()
      })
      item.append(title, total, detail, remove)
      return item
    }),
  )
}

function addressFrom(form: HTMLFormElement) {
  const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | null)?.value.trim() ?? ''
  const province = value('province')
  return {
    first_name: value('first_name'),
    last_name: value('last_name'),
    address1: value('address1'),
    city: value('city'),
    zip: value('zip'),
    country_code: value('country_code'),
    ...(province ? { province } : {}),
  }
}

async function startCheckout(event: SubmitEvent): Promise<void> {
  event.preventDefault()
  const form = event.currentTarget as HTMLFormElement
  const status = required('[data-cart-status]')
  const email = required<HTMLInputElement>('#email')
  if (!email.checkValidity() || !email.value) {
    setStatus(status, 'Please enter your email address.', 'error')
    email.focus()
    return
  }
  rememberEmail(email.value.trim())
  setStatus(status, '')
  await whileBusy(required<HTMLButtonElement>('[data-checkout-button]'), 'Creating checkout…', async () => {
    const { data, error } = await bridge.POST('/v1/checkouts', {
      params: { header: { 'idempotency-key': newIdempotencyKey() } },
      body: {
        lines: cart.map((line) => ({
          external_product_id: line.external_product_id,
          external_variant_id: line.external_variant_id,
          quantity: line.quantity,
          ...(line.plan_id ? { plan_id: line.plan_id } : {}),
        })),
        email: email.value.trim(),
        shipping_address: addressFrom(form),
      },
    })
    if (error || !data) {
      showError(status, error)
      return
    }
    checkout = { token: data.token, secret: data.checkout_secret }
    renderCheckout(data)
    await loadShippingRates()
  })
}

function secretHeader() {
  return { 'x-checkout-secret': checkout?.secret }
}

async function loadShippingRates(): Promise<void> {
  if (!checkout) return
  const field = required('[data-shipping-field]')
  const select = required<HTMLSelectElement>('[data-shipping-select]')
  const { data } = await bridge.GET('/v1/checkouts/{token}/shipping-rates', {
    params: { path: { token: checkout.token }, header: secretHeader() },
  })
  const rates = data?.shipping_rates ?? []
  field.hidden = rates.length === 0
  select.replaceChildren(
    ...rates.map((rate) => new Option(`${rate.title ?? rate.handle} · ${money(rate.price)}`, rate.handle)),
  )
  if (rates[0]) await chooseShippingRate(rates[0].handle)
}

async function chooseShippingRate(handle: string): Promise<void> {
  if (!checkout) return
  const status = required('[data-checkout-status]')
  const { data, error } = await bridge.PATCH('/v1/checkouts/{token}', {
    params: { path: { token: checkout.token }, header: secretHeader() },
    body: { shipping_rate: handle },
  })
  if (error || !data) showError(status, error)
  else renderCheckout(data)
}

function renderCheckout(data: Omit<Checkout, 'checkout_secret' | 'checkout_secret_expires_at'>): void {
  const section = required('[data-checkout]')
  section.hidden = false
  required('[data-checkout-lines]').replaceChildren(
    ...data.lines.map((line) => {
      const item = document.createElement('li')
      item.className = 'checkout-line'
      const title = document.createElement('strong')
      title.textContent = `${line.quantity} × ${line.title ?? 'Item'}`
      const price = document.createElement('span')
      price.textContent = money(line.line_price)
      const detail = document.createElement('span')
      detail.className = 'detail'
      detail.textContent =
        line.purchase_type === 'subscription' && line.interval
          ? `Subscription · delivered every ${line.interval.deliver_every} ${line.interval.unit}${line.interval.deliver_every === 1 ? '' : 's'}`
          : 'One-time purchase'
      item.append(title, price, detail)
      return item
    }),
  )
  const totals = required('[data-checkout-totals]')
  const rows: Array<[string, string | null, boolean?]> = [
    ['Subtotal', data.totals.subtotal],
    ['Discounts', data.totals.discounts],
    ['Shipping', data.totals.shipping],
    ['Tax', data.totals.tax],
    ['Total', data.totals.total, true],
  ]
  totals.replaceChildren(
    ...rows
      .filter(([, amount, grand]) => grand || (amount !== null && Number(amount) !== 0))
      .flatMap(([label, amount, grand]) => {
        const term = document.createElement('dt')
        term.textContent = label
        const value = document.createElement('dd')
        value.textContent = money(amount)
        if (grand) {
          term.className = 'grand'
          value.className = 'grand'
        }
        return [term, value]
      }),
  )
  section.scrollIntoView({ behavior: 'smooth', block: 'start' })
}

/** One key per checkout: a double click or a retry after a network error cannot charge twice. */
let payKey: string | undefined

async function pay(): Promise<void> {
  if (!checkout) return
  const status = required('[data-checkout-status]')
  payKey ??= newIdempotencyKey()
  await whileBusy(required<HTMLButtonElement>('[data-pay-button]'), 'Processing payment…', async () => {
    setStatus(status, 'Processing your payment…')
    const { data, error } = await bridge.POST('/v1/checkouts/{token}/charge', {
      params: { path: { token: checkout!.token }, header: { ...secretHeader(), 'idempotency-key': payKey! } },
      body: TEST_PAYMENT,
    })
    if (error || !data) {
      showError(status, error)
      return
    }
    setStatus(status, '')
    payKey = undefined
    const subscribed = cart.some((line) => line.plan_id !== undefined)
    cart = []
    saveCart()
    renderCart()
    required('[data-checkout]').hidden = true
    const confirmation = required('[data-confirmation]')
    confirmation.hidden = false
    const order = data.order_id ? `Order #${data.order_id}` : 'Your order'
    required('[data-confirmation-text]').textContent = subscribed
      ? `${order} is confirmed and your subscription is active. Sign in to your account to skip, reschedule or change it.`
      : `${order} is confirmed. A receipt is on its way to your inbox.`
    required('[data-account-link]').hidden = !subscribed
    confirmation.focus()
  })
}

async function main(): Promise<void> {
  const email = required<HTMLInputElement>('#email')
  email.value = readSession()?.email ?? rememberedEmail() ?? ''
  required<HTMLFormElement>('[data-widget]').addEventListener('submit', addToCart)
  required<HTMLFormElement>('[data-widget]').addEventListener('change', renderPrices)
  required<HTMLFormElement>('[data-checkout-form]').addEventListener('submit', (event) => void startCheckout(event))
  required<HTMLSelectElement>('[data-shipping-select]').addEventListener(
    'change',
    (event) => void chooseShippingRate((event.target as HTMLSelectElement).value),
  )
  required<HTMLButtonElement>('[data-pay-button]').addEventListener('click', () => void pay())
  renderCart()
  widget = (await loadStoreSettings())?.widget ?? {}
  await loadProducts()
}

void main().catch((error: unknown) => showError(required('[data-products-status]'), error))
