/// <reference lib="dom.iterable" />
import { newIdempotencyKey, type paths } from '../../client/index.ts'
import { loadOrders } from './account-orders.ts'
import { loadPaymentMethods, showPaymentAlert } from './account-payments.ts'
import { bridge, loadWhenOpened, required, setStatus, showError, whileBusy } from './common.ts'

/**
 * The rest of the account page, beside the subscriptions (src/demo/app/account.ts calls `showAccountProfile` once the
 * shopper is signed in): the payment-recovery banner and payment methods (account-payments.ts), the order history
 * (account-orders.ts), the profile form (PATCH /v1/me) and the addresses with an "add an address" form
 * (POST /v1/addresses). Each form sends an Idempotency-Key, so a double submit changes Recharge once.
 */
type Json<T> = T extends { content: { 'application/json': infer Body } } ? Body : never
type Me = Json<paths['/v1/me']['get']['responses'][200]>
type Address = Json<paths['/v1/addresses']['get']['responses'][200]>['addresses'][number]

let wired = false

export async function showAccountProfile(): Promise<void> {
  if (!wired) {
    wired = true
    required<HTMLFormElement>('[data-profile-form]').addEventListener('submit', (event) => void saveProfile(event))
    required<HTMLFormElement>('[data-address-form]').addEventListener('submit', (event) => void addAddress(event))
  }
  const { data } = await bridge.GET('/v1/me')
  showPaymentAlert(data)
  fillProfile(data)
  loadWhenOpened(required<HTMLDetailsElement>('[data-payment-methods-section]'), loadPaymentMethods)
  loadWhenOpened(required<HTMLDetailsElement>('[data-orders-section]'), loadOrders)
  loadWhenOpened(required<HTMLDetailsElement>('[data-addresses-section]'), loadAddresses)
}

function fillProfile(me: Me | undefined): void {
  const form = required<HTMLFormElement>('[data-profile-form]')
  for (const name of ['first_name', 'last_name', 'phone'] as const) {
    const input = form.elements.namedItem(name) as HTMLInputElement
    input.value = me?.[name] ?? ''
  }
}

async function saveProfile(event: SubmitEvent): Promise<void> {
  event.preventDefault()
  const form = event.currentTarget as HTMLFormElement
  const status = required('[data-profile-status]')
  const values = new FormData(form)
  const first = String(values.get('first_name') ?? '').trim()
  const last = String(values.get('last_name') ?? '').trim()
  if (!first || !last) {
    setStatus(status, 'Please enter your first and last name.', 'error')
    return
  }
  const button = required<HTMLButtonElement>('button[type="submit"]', form)
  await whileBusy(button, 'Saving…', async () => {
    const { data, error } = await bridge.PATCH('/v1/me', {
      params: { header: { 'idempotency-key': newIdempotencyKey() } },
      body: { first_name: first, last_name: last, phone: String(values.get('phone') ?? '').trim() || null },
    })
    if (!data) {
      showError(status, error)
      return
    }
    fillProfile(data)
    const email = required('[data-account-email]').textContent?.split(' · ').at(-1) ?? ''
    required('[data-account-email]').textContent = `${data.first_name} ${data.last_name} · ${email}`
    setStatus(status, 'Your details are saved.', 'ok')
  })
}

async function loadAddresses(): Promise<void> {
  const status = required('[data-address-status]')
  const { data, error } = await bridge.GET('/v1/addresses')
  if (!data) {
    showError(status, error)
    return
  }
  required('[data-address-list]').replaceChildren(...data.addresses.map(renderAddress))
}

function renderAddress(address: Address): HTMLLIElement {
  const item = document.createElement('li')
  item.dataset.addressId = address.id
  const name = [address.first_name, address.last_name].filter(Boolean).join(' ')
  const lines = [address.address1, address.address2, address.city, address.province, address.zip, address.country_code]
  item.textContent = `${name}, ${lines.filter(Boolean).join(', ')}`
  return item
}

async function addAddress(event: SubmitEvent): Promise<void> {
  event.preventDefault()
  const form = event.currentTarget as HTMLFormElement
  const status = required('[data-address-status]')
  const values = Object.fromEntries(
    [...new FormData(form).entries()].map(([key, value]) => [key, String(value).trim()]),
  ) as Record<string, string>
  const missing = ['first_name', 'last_name', 'address1', 'city', 'province'].filter((key) => !values[key])
  if (missing.length > 0) {
    setStatus(status, 'Please fill in name, address, city and state.', 'error')
    return
  }
  const button = required<HTMLButtonElement>('button[type="submit"]', form)
  await whileBusy(button, 'Adding…', async () => {
    const { data, error } = await bridge.POST('/v1/addresses', {
      params: { header: { 'idempotency-key': newIdempotencyKey() } },
      body: {
        first_name: values.first_name ?? '',
        last_name: values.last_name ?? '',
        address1: values.address1 ?? '',
        city: values.city ?? '',
        province: values.province ?? '',
        country_code: values.country_code || 'US',
        ...(values.address2 ? { address2: values.address2 } : {}),
        ...(values.zip ? { zip: values.zip } : {}),
      },
    })
    if (!data) {
      showError(status, error)
      return
    }
    form.reset()
    required<HTMLDetailsElement>('[data-address-create]').open = false
    setStatus(status, 'Address added.', 'ok')
    await Promise.all([loadAddresses(), loadPaymentMethods()])
  })
}
