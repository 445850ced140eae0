/// <reference lib="dom.iterable" />
import { newIdempotencyKey, type paths } from '../../client/index.ts'
import { setupDeliveries } from './account-deliveries.ts'
import { showAccountProfile } from './account-profile.ts'
import { setupRetention } from './account-retention.ts'
import {
  announceChange,
  bridge,
  clearSession,
  intervalText,
  loadStoreSettings,
  longDate,
  money,
  onChange,
  readSession,
  rememberedEmail,
  required,
  saveSession,
  setStatus,
  showError,
  whileBusy,
} from './common.ts'

/**
 * The account page: a demo sign-in (stands in for the merchant's own login + token minting), the hosted-portal
 * "Manage Subscriptions" link, and a custom portal over /v1/subscriptions with skip, reschedule, change frequency,
 * swap and cancel-with-reason. Which buttons show comes from each subscription's `allowed_actions` (the store's
 * policy, enforced again by the bridge on every call).
 */
type Json<T> = T extends { content: { 'application/json': infer Body } } ? Body : never
type Subscription = Json<paths['/v1/subscriptions']['get']['responses'][200]>['subscriptions'][number]
type SubscriptionDetail = Json<paths['/v1/subscriptions/{id}']['get']['responses'][200]>
type Action = Subscription['allowed_actions'][number]
type Panel = 'reschedule' | 'frequency' | 'quantity' | 'swap' | 'cancel'

const panelAction: Record<Panel, Action> = {
  reschedule: 'reschedule',
  frequency: 'change_frequency',
  quantity: 'change_quantity',
  swap: 'swap_variant',
  cancel: 'cancel',
}

/** A seeded shopper of the simulator with several subscriptions, offered when nobody has signed in or checked out. */
const DEMO_EMAIL = 'alice@example.com'

// ---- sign-in ----------------------------------------------------------------------------------------------------

async function signIn(event: SubmitEvent): Promise<void> {
  event.preventDefault()
  const status = required('[data-sign-in-status]')
  const email = required<HTMLInputElement>('#sign-in-email').value.trim()
  if (!email) {
    setStatus(status, 'Please enter your email address.', 'error')
    return
  }
  await whileBusy(required<HTMLButtonElement>('[data-sign-in-button]'), 'Signing in…', async () => {
    try {
      const response = await fetch('/demo/api/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email }),
      })
      const body = (await response.json()) as unknown
      if (!response.ok) {
        showError(status, body)
        return
      }
      const { token, expires_at } = body as { token: string; expires_at: string }
      saveSession({ token, expiresAt: expires_at, email })
      setStatus(status, '')
      await showAccount()
    } catch (error) {
      showError(status, error)
    }
  })
}

/**
 * Sign in with Shopify, as a Hydrogen storefront does it: Shopify's login hands the page a Customer Account access
 * token (here the demo shop, a Shopify stand-in, issues it for the email typed), and the page exchanges it at
 * POST /v1/auth/shopify for the bridge's customer token. No merchant backend is involved.
 */
async function signInWithShopify(): Promise<void> {
  const status = required('[data-sign-in-status]')
  const email = required<HTMLInputElement>('#sign-in-email').value.trim()
  if (!email) {
    setStatus(status, 'Please enter the email of your Shopify account.', 'error')
    return
  }
  await whileBusy(required<HTMLButtonElement>('[data-shopify-sign-in]'), 'Signing in with Shopify…', async () => {
    try {
      const shopifyLogin = await fetch('/demo/api/shopify-login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email }),
      })
      const shopifyBody = (await shopifyLogin.json()) as unknown
      if (!shopifyLogin.ok) {
        showError(status, shopifyBody)
        return
      }
      const { customer_account_access_token } = shopifyBody as { customer_account_access_token: string }
      const exchanged = await bridge.POST('/v1/auth/shopify', { body: { customer_account_access_token } })
      if (!exchanged.data) {
        showError(status, exchanged.error)
        return
      }
      saveSession({ token: exchanged.data.token, expiresAt: exchanged.data.expires_at, email })
      setStatus(status, '')
      await showAccount()
    } catch (error) {
      showError(status, error)
    }
  })
}

function signOut(): void {
  clearSession()
  required('[data-account]').hidden = true
  showSignIn()
}

function showSignIn(): void {
  required('[data-sign-in]').hidden = false
  required<HTMLInputElement>('#sign-in-email').value = rememberedEmail() ?? DEMO_EMAIL
}

// ---- account ----------------------------------------------------------------------------------------------------

async function showAccount(): Promise<void> {
  const session = readSession()
  if (!session) {
    showSignIn()
    return
  }
  required('[data-sign-in]').hidden = true
  required('[data-account]').hidden = false
  const me = await bridge.GET('/v1/me')
  if (me.response.status === 401) {
    signOut()
    setStatus(required('[data-sign-in-status]'), 'Your session has ended. Please sign in again.', 'error')
    return
  }
  const name = [me.data?.first_name, me.data?.last_name].filter(Boolean).join(' ')
  required('[data-account-email]').textContent = name ? `${name} · ${session.email}` : `Signed in as ${session.email}`
  setupDeliveries()
  await Promise.all([refreshPortalLink(), loadSubscriptions(), showAccountProfile()])
}

/**
 * "Manage Subscriptions" is a plain link: the bridge mints a single-use, short-lived redirect URL that 302s to the
 * hosted portal, so the portal credential never sits in this page. Links expire, so it is refreshed periodically.
 */
async function refreshPortalLink(): Promise<void> {
  const link = required<HTMLAnchorElement>('[data-manage-link]')
  const { data } = await bridge.POST('/v1/portal/links', { body: {} })
  if (!data) {
    link.setAttribute('aria-disabled', 'true')
    link.removeAttribute('href')
    return
  }
  link.href = data.url
  link.removeAttribute('aria-disabled')
}

async function loadSubscriptions(): Promise<void> {
  const status = required('[data-account-status]')
  setStatus(status, 'Loading your subscriptions…')
  const { data, error } = await bridge.GET('/v1/subscriptions')
  if (error || !data) {
    showError(status, error)
    return
  }
  const list = required('[data-subscription-list]')
  // Active subscriptions first, soonest delivery first; cancelled ones after them.
  const ordered = [...data.subscriptions].sort(
    (a, b) =>
      Number(a.status !== 'active') - Number(b.status !== 'active') ||
      (a.next_charge_date ?? '9999').localeCompare(b.next_charge_date ?? '9999'),
  )
  list.replaceChildren(...ordered.map(renderSubscription))
  // The list could not tell skip/unskip (the store's Recharge budget was busy): ask for each active card on its own.
  if (!data.actions_complete) void completeActions(ordered.filter((subscription) => subscription.status === 'active'))
  setStatus(
    status,
    data.subscriptions.length === 0
      ? 'You have no subscriptions yet. Subscribe to a product in the shop.'
      : `${data.subscriptions.length} subscription${data.subscriptions.length === 1 ? '' : 's'}.`,
  )
}

async function completeActions(subscriptions: Subscription[]): Promise<void> {
  for (const { id } of subscriptions) {
    const { data } = await bridge.GET('/v1/subscriptions/{id}', { params: { path: { id } } })
    const item = document.querySelector<HTMLElement>(`li[data-subscription-id="${id}"]`)
    if (data && item) fill(item, data)
  }
}

function renderSubscription(subscription: Subscription): HTMLLIElement {
  const template = required<HTMLTemplateElement>('[data-subscription-template]')
  const item = template.content.firstElementChild?.cloneNode(true) as HTMLLIElement
  item.dataset.subscriptionId = subscription.id
  fill(item, subscription)
  wire(item, subscription.id)
  return item
}

function field(item: Element, name: string): HTMLElement {
  return required(`[data-field="${name}"]`, item)
}

function fill(item: HTMLElement, subscription: Subscription): void {
  const cancelled = subscription.status !== 'active'
  item.classList.toggle('is-cancelled', cancelled)
  const titleId = `subscription-${subscription.id}-title`
  field(item, 'title').id = titleId
  item.setAttribute('aria-labelledby', titleId)
  field(item, 'title').textContent = subscription.product_title ?? 'Subscription'
  field(item, 'variant').textContent = subscription.variant_title ?? ''
  const statusPill = field(item, 'status')
  statusPill.textContent = subscription.status
  statusPill.classList.toggle('cancelled', cancelled)
  field(item, 'next').textContent = cancelled ? '—' : longDate(subscription.next_charge_date)
  field(item, 'frequency').textContent = intervalText(subscription.frequency?.every, subscription.frequency?.unit)
  field(item, 'price').textContent = money(subscription.price)
  field(item, 'quantity').textContent = String(subscription.quantity)
  const allowed = new Set(subscription.allowed_actions)
  required<HTMLButtonElement>('[data-action="skip"]', item).hidden = !allowed.has('skip')
  // After a skip the next delivery can be restored (the bridge offers unskip while a skipped charge exists).
  required<HTMLButtonElement>('[data-action="unskip"]', item).hidden = !allowed.has('unskip')
  for (const [panel, action] of Object.entries(panelAction)) {
    required<HTMLButtonElement>(`[data-panel="${panel}"]`, item).hidden = !allowed.has(action)
  }
  required('[data-actions]', item).hidden = cancelled
  required('[data-reactivate]', item).hidden = !(cancelled && allowed.has('activate'))
  if (cancelled) closePanels(item)
}

function closePanels(item: HTMLElement): void {
  for (const form of item.querySelectorAll<HTMLFormElement>('[data-panel-form]')) form.hidden = true
  for (const toggle of item.querySelectorAll<HTMLButtonElement>('[data-action="toggle"]')) {
    toggle.setAttribute('aria-expanded', 'false')
  }
}

function wire(item: HTMLElement, id: string): void {
  const status = field(item, 'status-line')

  required<HTMLButtonElement>('[data-action="skip"]', item).addEventListener('click', (event) => {
    const button = event.currentTarget as HTMLButtonElement
    void run(item, id, button, 'Skipping…', 'Next delivery skipped.', () =>
      bridge.POST('/v1/subscriptions/{id}/skip', {
        params: { path: { id }, header: { 'idempotency-key': newIdempotencyKey() } },
      }),
    )
  })

  required<HTMLButtonElement>('[data-action="unskip"]', item).addEventListener('click', (event) => {
    const button = event.currentTarget as HTMLButtonElement
    void run(item, id, button, 'Restoring…', 'Skipped delivery restored.', () =>
      bridge.POST('/v1/subscriptions/{id}/unskip', {
        params: { path: { id }, header: { 'idempotency-key': newIdempotencyKey() } },
      }),
    )
  })

  required<HTMLButtonElement>('[data-action="activate"]', item).addEventListener('click', (event) => {
    const button = event.currentTarget as HTMLButtonElement
    void run(item, id, button, 'Reactivating…', 'Subscription reactivated.', () =>
      bridge.POST('/v1/subscriptions/{id}/activate', {
        params: { path: { id }, header: { 'idempotency-key': newIdempotencyKey() } },
      }),
    )
  })

  for (const toggle of item.querySelectorAll<HTMLButtonElement>('[data-action="toggle"]')) {
    toggle.addEventListener('click', () => void togglePanel(item, id, toggle))
  }

  const forms = (panel: Panel) => required<HTMLFormElement>(`[data-panel-form="${panel}"]`, item)
  const submitter = (form: HTMLFormElement) => required<HTMLButtonElement>('button[type="submit"]', form)
  const value = (form: HTMLFormElement, name: string) =>
    (form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement).value

  forms('reschedule').addEventListener('submit', (event) => {
    event.preventDefault()
    const form = forms('reschedule')
    const date = value(form, 'date')
    if (!date) return setStatus(status, 'Please choose a date.', 'error')
    void run(item, id, submitter(form), 'Saving…', `Next delivery moved to ${longDate(date)}.`, () =>
      patch(id, { next_charge_date: date }),
    )
  })

  forms('frequency').addEventListener('submit', (event) => {
    event.preventDefault()
    const form = forms('frequency')
    const [every, unit] = value(form, 'frequency').split(' ')
    if (!every || (unit !== 'day' && unit !== 'week' && unit !== 'month')) return
    void run(item, id, submitter(form), 'Saving…', 'Delivery frequency updated.', () =>
      patch(id, { frequency: { unit, every: Number(every) } }),
    )
  })

  forms('quantity').addEventListener('submit', (event) => {
    event.preventDefault()
    const form = forms('quantity')
    const quantity = Number(value(form, 'quantity'))
    if (!Number.isInteger(quantity) || quantity < 1) return setStatus(status, 'Please enter a whole number.', 'error')
    void run(item, id, submitter(form), 'Saving…', `Quantity set to ${quantity}.`, () => patch(id, { quantity }))
  })

  forms('swap').addEventListener('submit', (event) => {
    event.preventDefault()
    const form = forms('swap')
    void run(item, id, submitter(form), 'Swapping…', 'Product swapped.', () =>
      patch(id, { external_variant_id: value(form, 'variant') }),
    )
  })

  forms('cancel').addEventListener('submit', (event) => {
    event.preventDefault()
    const form = forms('cancel')
    const reason = value(form, 'reason')
    if (!reason) return setStatus(status, 'Please tell us why you are cancelling.', 'error')
    const comment = value(form, 'comments').trim()
    void run(item, id, submitter(form), 'Cancelling…', 'Subscription cancelled. We are sorry to see you go.', () =>
      bridge.POST('/v1/subscriptions/{id}/cancel', {
        params: { path: { id }, header: { 'idempotency-key': newIdempotencyKey() } },
        body: { reason, ...(comment ? { comment } : {}) },
      }),
    )
  })
}

type PatchBody = NonNullable<paths['/v1/subscriptions/{id}']['patch']['requestBody']>['content']['application/json']

function patch(id: string, body: PatchBody) {
  return bridge.PATCH('/v1/subscriptions/{id}', {
    params: { path: { id }, header: { 'idempotency-key': newIdempotencyKey() } },
    body,
  })
}

/** Opens one panel, filling its choices from the subscription's detail (frequencies, variants, reasons, window). */
async function togglePanel(item: HTMLElement, id: string, toggle: HTMLButtonElement): Promise<void> {
  const panel = toggle.dataset.panel as Panel
  const form = required<HTMLFormElement>(`[data-panel-form="${panel}"]`, item)
  const opening = form.hidden
  closePanels(item)
  if (!opening) return
  const status = field(item, 'status-line')
  const detail = await whileBusy(toggle, 'Loading…', async () => {
    const { data, error } = await bridge.GET('/v1/subscriptions/{id}', { params: { path: { id } } })
    if (error || !data) showError(status, error)
    return data
  })
  if (!detail) return
  setStatus(status, '')
  const onlyChoice = fillPanel(form, panel, detail)
  required<HTMLButtonElement>('button[type="submit"]', form).disabled = onlyChoice
  if (onlyChoice) {
    setStatus(
      status,
      panel === 'frequency'
        ? 'This product is delivered on one schedule only.'
        : panel === 'quantity'
          ? 'The quantity of this subscription cannot be changed.'
          : 'There is no other option to swap to.',
    )
  }
  form.hidden = false
  toggle.setAttribute('aria-expanded', 'true')
  form.querySelector<HTMLElement>('input, select')?.focus()
}

/** Fills a panel's choices; true when there is nothing to choose (one frequency, one variant). */
function fillPanel(form: HTMLFormElement, panel: Panel, detail: SubscriptionDetail): boolean {
  if (panel === 'reschedule') {
    const input = form.elements.namedItem('date') as HTMLInputElement
    input.min = detail.reschedule_window.earliest
    input.max = detail.reschedule_window.latest
    input.value = detail.next_charge_date ?? detail.reschedule_window.earliest
  } else if (panel === 'quantity') {
    const input = form.elements.namedItem('quantity') as HTMLInputElement
    input.min = String(detail.quantity_bounds.min)
    input.max = String(detail.quantity_bounds.max)
    input.value = String(detail.quantity)
    return detail.quantity_bounds.min === detail.quantity_bounds.max
  } else if (panel === 'frequency') {
    const select = form.elements.namedItem('frequency') as HTMLSelectElement
    select.replaceChildren(
      ...detail.frequency_options.map((option) => {
        const current = option.every === detail.frequency?.every && option.unit === detail.frequency?.unit
        return new Option(intervalText(option.every, option.unit), `${option.every} ${option.unit}`, current, current)
      }),
    )
    return detail.frequency_options.length < 2
  } else if (panel === 'swap') {
    const select = form.elements.namedItem('variant') as HTMLSelectElement
    select.replaceChildren(
      ...detail.variant_options.map((option) => {
        const current = option.external_variant_id === detail.external_variant_id
        return new Option(option.title, option.external_variant_id, current, current)
      }),
    )
    return detail.variant_options.length < 2
  } else {
    const select = form.elements.namedItem('reason') as HTMLSelectElement
    select.replaceChildren(
      new Option('Choose a reason', ''),
      ...detail.cancellation_reasons.map((reason) => new Option(reason, reason)),
    )
  }
  return false
}

interface ApiResult {
  error?: unknown
  response: Response
}

/** Runs one action with a busy button, then re-reads the subscription so the card shows what Recharge now has. */
async function run(
  item: HTMLElement,
  id: string,
  button: HTMLButtonElement,
  busyLabel: string,
  done: string,
  call: () => Promise<ApiResult>,
): Promise<void> {
  const status = field(item, 'status-line')
  setStatus(status, busyLabel)
  await whileBusy(button, busyLabel, async () => {
    const result = await call()
    if (!result.response.ok) {
      showError(status, result.error)
      return
    }
    const { data } = await bridge.GET('/v1/subscriptions/{id}', { params: { path: { id } } })
    if (data) fill(item, data)
    closePanels(item)
    setStatus(status, done, 'ok')
    announceChange('subscriptions')
  })
}

async function main(): Promise<void> {
  required<HTMLFormElement>('[data-sign-in-form]').addEventListener('submit', (event) => void signIn(event))
  required<HTMLButtonElement>('[data-shopify-sign-in]').addEventListener('click', () => void signInWithShopify())
  required<HTMLButtonElement>('[data-sign-out]').addEventListener('click', signOut)
  // Retention actions (pause, order now, an offer) re-render the list and may move deliveries in the schedule.
  setupRetention({
    reload: async () => {
      await loadSubscriptions()
      announceChange('subscriptions')
    },
  })
  // A delivery skipped or restored in the schedule moves a subscription's next date.
  onChange((part) => {
    if (part !== 'subscriptions' && readSession()) void loadSubscriptions()
  })
  await loadStoreSettings()
  await showAccount()
  // Portal links are single-use and short-lived: keep the one in the page fresh, replace it once it is used (a
  // middle-click opens a tab and leaves this page), and when the browser restores this page from its back cache.
  const refresh = () => {
    if (readSession()) void refreshPortalLink()
  }
  setInterval(refresh, 60_000)
  required('[data-manage-link]').addEventListener('click', () => setTimeout(refresh, 500))
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) refresh()
  })
}

void main().catch((error: unknown) => showError(required('[data-account-status]'), error))
