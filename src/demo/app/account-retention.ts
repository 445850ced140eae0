/// <reference lib="dom.iterable" />
import { newIdempotencyKey, type paths } from '../../client/index.ts'
import { bridge, longDate, required, setStatus, showError, whileBusy } from './common.ts'

/**
 * Keep the subscriber, on the account page: each active subscription card gets pause / resume, "order now" (where
 * the store policy allows it) and a discount code field; the cancel panel shows the store's offers for the chosen
 * reason (accept one instead, or continue to cancel). Which controls show comes from the subscription's
 * `allowed_actions`, as for the page's other buttons. account.ts renders the cards; this module decorates each card
 * it renders and asks it to re-read the list after a change.
 */
type Json<T> = T extends { content: { 'application/json': infer Body } } ? Body : never
type Subscription = Json<paths['/v1/subscriptions']['get']['responses'][200]>['subscriptions'][number]
type Reasons = Json<paths['/v1/subscriptions/{id}/cancellation-offers']['get']['responses'][200]>['reasons']
type Offer = Reasons[number]['offers'][number]

interface ApiResult {
  error?: unknown
  response: Response
}

export interface RetentionOptions {
  /** Re-reads and re-renders the subscription list (account.ts). */
  reload: () => Promise<void>
}

export function setupRetention(options: RetentionOptions): void {
  const list = required('[data-subscription-list]')
  let pending = false
  // account.ts replaces the cards on every list render: decorate the new ones, with one list read per render.
  new MutationObserver(() => {
    if (pending) return
    pending = true
    queueMicrotask(() => {
      pending = false
      void decorate(list, options)
    })
  }).observe(list, { childList: true })
}

async function decorate(list: HTMLElement, options: RetentionOptions): Promise<void> {
  const cards = [...list.querySelectorAll<HTMLElement>('li[data-subscription-id]')].filter(
    (card) => !card.querySelector('[data-retention]'),
  )
  if (cards.length === 0) return
  const { data } = await bridge.GET('/v1/subscriptions')
  if (!data) return
  const byId = new Map(data.subscriptions.map((subscription) => [subscription.id, subscription]))
  for (const card of cards) {
    const subscription = byId.get(card.dataset.subscriptionId ?? '')
    if (subscription && !card.querySelector('[data-retention]')) decorateCard(card, subscription, options)
  }
}

function decorateCard(card: HTMLElement, subscription: Subscription, options: RetentionOptions): void {
  const template = required<HTMLTemplateElement>('[data-retention-template]')
  const section = template.content.firstElementChild?.cloneNode(true) as HTMLElement
  required('[data-actions]', card).after(section)
  const allowed = new Set(subscription.allowed_actions)
  const status = required('[data-field="status-line"]', card)
  const id = subscription.id
  section.hidden = subscription.status !== 'active'

  const paused = required('[data-retention-paused]', section)
  paused.hidden = !subscription.paused_until
  paused.textContent = subscription.paused_until ? `Paused until ${longDate(subscription.paused_until)}.` : ''
  const button = (name: string) => required<HTMLButtonElement>(`[data-retention-action="${name}"]`, section)
  const form = (name: string) => required<HTMLFormElement>(`[data-retention-form="${name}"]`, section)
  button('pause').hidden = !allowed.has('pause')
  button('resume').hidden = !allowed.has('resume')
  button('order-now').hidden = !allowed.has('order_now')
  form('discount').hidden = !allowed.has('apply_discount')

  /** Runs a change, then re-renders the list and says what happened on the new card. */
  const act = async (target: HTMLButtonElement, busy: string, done: string, call: () => Promise<ApiResult>) => {
    setStatus(status, busy)
    await whileBusy(target, busy, async () => {
      const result = await call()
      if (!result.response.ok) {
        showError(status, result.error)
        return
      }
      await options.reload()
      const fresh = document.querySelector(`li[data-subscription-id="${id}"] [data-field="status-line"]`)
      setStatus(fresh ?? status, done, 'ok')
    })
  }
  const key = () => ({ 'idempotency-key': newIdempotencyKey() })

  button('pause').addEventListener('click', () => {
    const opening = form('pause').hidden
    form('pause').hidden = !opening
    button('pause').setAttribute('aria-expanded', String(opening))
  })
  form('pause').addEventListener('submit', (event) => {
    event.preventDefault()
    const deliveries = Number((form('pause').elements.namedItem('deliveries') as HTMLSelectElement).value)
    const submit = required<HTMLButtonElement>('button[type="submit"]', form('pause'))
    void act(submit, 'Pausing…', 'Subscription paused.', () =>
      bridge.POST('/v1/subscriptions/{id}/pause', { params: { path: { id }, header: key() }, body: { deliveries } }),
    )
  })
  button('resume').addEventListener('click', () => {
    void act(button('resume'), 'Resuming…', 'Subscription resumed.', () =>
      bridge.POST('/v1/subscriptions/{id}/resume', { params: { path: { id }, header: key() } }),
    )
  })
  button('order-now').addEventListener('click', () => {
    void act(button('order-now'), 'Ordering…', 'Your next delivery is ordered and on its way.', async () => {
      const charges = await bridge.GET('/v1/charges')
      const charge = charges.data?.charges.find(
        (row) => row.status === 'queued' && row.line_items.some((line) => line.subscription_id === id),
      )
      if (!charge) {
        const error = { type: 'about:blank', title: 'Not found', status: 404, code: 'NOT_FOUND' }
        return { error, response: new Response(null, { status: 404 }) }
      }
      return bridge.POST('/v1/charges/{id}/process', { params: { path: { id: charge.id }, header: key() } })
    })
  })

  const codeInput = form('discount').elements.namedItem('code') as HTMLInputElement
  form('discount').addEventListener('submit', (event) => {
    event.preventDefault()
    const code = codeInput.value.trim()
    if (!code) return setStatus(status, 'Please enter a discount code.', 'error')
    const submit = required<HTMLButtonElement>('button[type="submit"]', form('discount'))
    void act(submit, 'Applying…', `Code ${code} applied to your next deliveries.`, () =>
      bridge.POST('/v1/addresses/{id}/discount', {
        params: { path: { id: subscription.address_id }, header: key() },
        body: { code },
      }),
    )
  })
  button('remove-code').addEventListener('click', () => {
    void act(button('remove-code'), 'Removing…', 'Discount code removed.', () =>
      bridge.DELETE('/v1/addresses/{id}/discount', {
        params: { path: { id: subscription.address_id }, header: key() },
      }),
    )
  })

  if (allowed.has('cancellation_offers')) decorateCancelPanel(card, id, act, key)
}

/**
 * The store's offers inside the cancel panel: the reasons its Recharge retention strategies add join the reason list,
 * and choosing a reason shows its offers with an "Accept" button each. The panel's own "Cancel subscription" button
 * stays the last step.
 */
function decorateCancelPanel(
  card: HTMLElement,
  id: string,
  act: (target: HTMLButtonElement, busy: string, done: string, call: () => Promise<ApiResult>) => Promise<void>,
  key: () => { 'idempotency-key': string },
): void {
  const panel = required<HTMLFormElement>('[data-panel-form="cancel"]', card)
  const select = required<HTMLSelectElement>('select[name="reason"]', panel)
  const template = required<HTMLTemplateElement>('[data-retention-offers-template]')
  const box = template.content.firstElementChild?.cloneNode(true) as HTMLElement
  required('button[type="submit"]', panel).before(box)
  let reasons: Reasons = []

  const render = () => {
    const entry = reasons.find((candidate) => candidate.reason === select.value)
    const offers = entry?.offers ?? []
    box.hidden = offers.length === 0
    required('[data-retention-message]', box).textContent = entry?.message ?? ''
    required('[data-retention-offer-list]', box).replaceChildren(...offers.map((offer) => offerItem(offer)))
  }
  const offerItem = (offer: Offer) => {
    const item = document.createElement('li')
    const text = document.createElement('span')
    text.textContent = describe(offer)
    const accept = document.createElement('button')
    accept.type = 'button'
    accept.className = 'button primary'
    accept.textContent = 'Accept offer'
    accept.dataset.offerId = offer.id
    accept.addEventListener('click', () => {
      if (offer.kind === 'swap' && !offer.external_variant_id) {
        // The shopper picks the variant: the card's own swap panel.
        card.querySelector<HTMLButtonElement>('[data-panel="swap"]')?.click()
        return
      }
      void act(accept, 'Accepting…', `Offer accepted: ${describe(offer)}.`, () =>
        bridge.POST('/v1/subscriptions/{id}/offers/{offerId}/accept', {
          params: { path: { id, offerId: offer.id }, header: key() },
          body: {},
        }),
      )
    })
    item.append(text, accept)
    return item
  }
  /** The reasons only the offers know join the select (again after account.ts refills it). */
  const sync = () => {
    const present = new Set([...select.options].map((option) => option.value))
    for (const entry of reasons) {
      if (!present.has(entry.reason) && entry.offers.length > 0) select.add(new Option(entry.reason, entry.reason))
    }
    render()
  }
  new MutationObserver(sync).observe(select, { childList: true })
  select.addEventListener('change', render)

  const toggle = card.querySelector<HTMLButtonElement>('[data-panel="cancel"]')
  let opening = false
  // Capture: read whether the panel is opening before account.ts's own listener toggles it.
  card.addEventListener(
    'click',
    (event) => {
      if (event.target === toggle) opening = panel.hidden
    },
    true,
  )
  toggle?.addEventListener('click', async () => {
    if (!opening) return
    const { data, error } = await bridge.GET('/v1/subscriptions/{id}/cancellation-offers', {
      params: { path: { id } },
    })
    if (!data) {
      // The cancel itself does not depend on the offers.
      if (error) console.warn('cancellation offers unavailable', error)
      return
    }
    reasons = data.reasons
    sync()
  })
}

function describe(offer: Offer): string {
  switch (offer.kind) {
    case 'discount':
      return `${offer.title} (code ${offer.discount_code ?? ''})`
    case 'pause':
      return offer.pause_deliveries
        ? `${offer.title}: pause ${offer.pause_deliveries} deliver${offer.pause_deliveries === 1 ? 'y' : 'ies'}`
        : `${offer.title}: your next delivery ${offer.pause_days ?? 0} days later`
    default:
      return offer.title
  }
}
