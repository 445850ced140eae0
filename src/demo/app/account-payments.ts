/// <reference lib="dom.iterable" />
import { newIdempotencyKey, type paths } from '../../client/index.ts'
import { bridge, required, setStatus, showError, whileBusy } from './common.ts'

/**
 * Payment recovery on the account page: the banner GET /v1/me raises when a payment failed (its `payment_recovery`
 * message and action), and the masked payment methods with a "send me an update link" button each. The bridge asks
 * Recharge to email the link; card details never touch this page.
 */
type Json<T> = T extends { content: { 'application/json': infer Body } } ? Body : never
type Me = Json<paths['/v1/me']['get']['responses'][200]>
type PaymentMethod = Json<paths['/v1/payment-methods']['get']['responses'][200]>['payment_methods'][number]

const STATUS_TEXT: Record<PaymentMethod['status'], string> = {
  ok: 'Active',
  expired: 'Expired',
  invalid: 'Declined',
  failing: 'Payment failed',
}

export function showPaymentAlert(me: Me | undefined): void {
  const alert = required('[data-payment-alert]')
  const recovery = me?.payment_recovery
  alert.hidden = !recovery
  if (!recovery) return
  required('[data-payment-alert-message]', alert).textContent = recovery.message
  const button = required<HTMLButtonElement>('[data-payment-alert-action]', alert)
  button.textContent = recovery.action.label
  button.onclick = () => {
    const status = required('[data-payment-alert-status]', alert)
    void whileBusy(button, 'Sending…', async () => {
      if (recovery.payment_method_id && recovery.action.href.endsWith('/update-link')) {
        await sendUpdateLink(recovery.payment_method_id, status)
      } else {
        // The store does not offer the email: open the hosted portal's payment page instead.
        const { data, error } = await bridge.POST('/v1/portal/links', { body: { page: 'payment_methods' } })
        if (data) window.location.assign(data.url)
        else showError(status, error)
      }
    })
  }
}

async function sendUpdateLink(paymentMethodId: string, status: Element): Promise<void> {
  const { data, error } = await bridge.POST('/v1/payment-methods/{id}/update-link', {
    params: { path: { id: paymentMethodId }, header: { 'idempotency-key': newIdempotencyKey() } },
  })
  if (data) setStatus(status, 'Check your inbox: we have emailed you a secure link to update your card.', 'ok')
  else showError(status, error)
}

export async function loadPaymentMethods(): Promise<void> {
  const status = required('[data-payment-methods-status]')
  const { data, error } = await bridge.GET('/v1/payment-methods')
  if (!data) {
    showError(status, error)
    return
  }
  const list = required('[data-payment-method-list]')
  list.replaceChildren(...data.payment_methods.map(renderMethod))
  setStatus(status, data.payment_methods.length === 0 ? 'No payment method on file.' : '')
}

function renderMethod(method: PaymentMethod): HTMLLIElement {
  const item = document.createElement('li')
  item.dataset.paymentMethodId = method.id
  const label = document.createElement('span')
  const brand = method.brand ? method.brand[0]?.toUpperCase() + method.brand.slice(1) : (method.payment_type ?? 'Card')
  const expiry = method.exp_month && method.exp_year ? ` · expires ${method.exp_month}/${method.exp_year}` : ''
  label.textContent = `${brand} ending ${method.last4 ?? '····'}${expiry}${method.is_default ? ' · default' : ''}`
  const pill = document.createElement('span')
  pill.className = `pill${method.failing ? ' failing' : ''}`
  pill.textContent = STATUS_TEXT[method.status]
  const button = document.createElement('button')
  button.type = 'button'
  button.className = method.failing ? 'button primary' : 'button'
  button.textContent = 'Email me an update link'
  const status = document.createElement('p')
  status.className = 'status'
  status.setAttribute('role', 'status')
  status.setAttribute('aria-live', 'polite')
  button.addEventListener('click', () => {
    void whileBusy(button, 'Sending…', () => sendUpdateLink(method.id, status))
  })
  item.append(label, pill, button, status)
  return item
}
