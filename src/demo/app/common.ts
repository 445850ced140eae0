/// <reference lib="dom.iterable" />
import { createBridgeClient, shopperMessage } from '../../client/index.ts'

/**
 * What both demo pages share: the typed client (same origin, so baseUrl is ''), the demo shopper's session, money
 * and date formatting, and small DOM helpers for status messages and busy buttons.
 */

export interface DemoSession {
  token: string
  expiresAt: string
  email: string
}

const sessionKey = 'rb-demo:session'
const lastEmailKey = 'rb-demo:email'

export function readSession(): DemoSession | null {
  try {
    const session = JSON.parse(sessionStorage.getItem(sessionKey) ?? 'null') as DemoSession | null
    if (!session || Date.parse(session.expiresAt) <= Date.now()) return null
    return session
  } catch {
    return null
  }
}

export function saveSession(session: DemoSession): void {
  sessionStorage.setItem(sessionKey, JSON.stringify(session))
  rememberEmail(session.email)
}

export function clearSession(): void {
  sessionStorage.removeItem(sessionKey)
}

export function rememberEmail(email: string): void {
  localStorage.setItem(lastEmailKey, email)
}

export function rememberedEmail(): string | null {
  return localStorage.getItem(lastEmailKey)
}

/** The shopper's token is read on every call, so signing in or out takes effect without rebuilding the client. */
export const bridge = createBridgeClient({ baseUrl: '', getToken: () => readSession()?.token })

/** An element the page cannot work without. */
export function required<T extends Element = HTMLElement>(selector: string, root: ParentNode = document): T {
  const element = root.querySelector<T>(selector)
  if (!element) throw new Error(`demo page is missing ${selector}`)
  return element
}

export type StatusKind = 'info' | 'ok' | 'error'

/** Writes into an aria-live region, so screen readers announce progress, results and errors. */
export function setStatus(element: Element, message: string, kind: StatusKind = 'info'): void {
  element.textContent = message
  element.classList.toggle('error', kind === 'error')
  element.classList.toggle('ok', kind === 'ok')
}

export function showError(element: Element, error: unknown): void {
  setStatus(element, shopperMessage(error), 'error')
}

/** Disables the button and marks it busy while `work` runs; the label says what is happening. */
export async function whileBusy<T>(button: HTMLButtonElement, busyLabel: string, work: () => Promise<T>): Promise<T> {
  const label = button.textContent
  button.disabled = true
  button.setAttribute('aria-busy', 'true')
  button.textContent = busyLabel
  try {
    return await work()
  } finally {
    button.disabled = false
    button.removeAttribute('aria-busy')
    button.textContent = label
  }
}

let currency = 'USD'

export function setCurrency(code: string): void {
  currency = code
}

export function money(amount: string | number | null | undefined): string {
  if (amount === null || amount === undefined || amount === '') return '—'
  return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(Number(amount))
}

export function longDate(value: string | null | undefined): string {
  if (!value) return '—'
  // Recharge dates are calendar dates (YYYY-MM-DD, sometimes with a time); show the date as the store wrote it.
  const [year, month, day] = value.slice(0, 10).split('-').map(Number)
  if (!year || !month || !day) return value
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'long', timeZone: 'UTC' }).format(
    new Date(Date.UTC(year, month - 1, day)),
  )
}

export function intervalText(frequency: number | null | undefined, unit: string | null | undefined): string {
  if (!frequency || !unit) return '—'
  return frequency === 1 ? `Every ${unit}` : `Every ${frequency} ${unit}s`
}

/** Puts the store's name in the header from the catalog settings (one call, cached by the bridge). */
export async function loadStoreSettings() {
  const { data } = await bridge.GET('/v1/catalog/settings')
  if (!data) return undefined
  setCurrency(data.currency)
  for (const element of document.querySelectorAll('[data-store-name]')) element.textContent = data.store_name
  document.title = document.title.replace('recharge-bridge demo', data.store_name)
  return data
}

/** Warm, coffee-shop gradients for the placeholder product images. */
const palette: ReadonlyArray<[string, string]> = [
  ['#e8d5b5', '#9c6b3f'],
  ['#d7e3c8', '#5b7f4a'],
  ['#f1d3c4', '#b0583b'],
  ['#d9d4ec', '#6a5a9c'],
  ['#cfe3e6', '#3f7b86'],
  ['#efe0b0', '#b3862b'],
]

/** A stable image colour pair per product (FNV-1a over its id). */
export function productTones(seed: string): [string, string] {
  let hash = 0x811c9dc5
  for (const char of seed) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0
  return palette[hash % palette.length] ?? ['#e8d5b5', '#9c6b3f']
}

export function initials(title: string): string {
  return title
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((word) => word[0]?.toUpperCase() ?? '')
    .join('')
}

/**
 * A section of the account page that costs upstream calls stays folded until the shopper opens it, and loads then:
 * the store's whole Recharge budget (40 calls, 2 more a second, for every shopper together) is spent only on what a
 * shopper looks at. Called on each sign-in: the section folds again and loads afresh when next opened; a load that
 * failed loads again on the next opening.
 */
export function loadWhenOpened(section: HTMLDetailsElement, load: () => Promise<unknown>): void {
  let loaded = false
  section.open = false
  section.ontoggle = () => {
    if (!section.open || loaded) return
    loaded = true
    load().catch((error: unknown) => {
      loaded = false
      console.warn(error)
    })
  }
}

/** Which part of the account page made a change (the part itself already shows it). */
export type AccountPart = 'subscriptions' | 'deliveries'

/**
 * A change in one part of the account page shows in the others: skipping a delivery in the schedule moves a
 * subscription's next date on its card, and skipping, pausing or ordering now on a card changes the schedule.
 */
export function announceChange(part: AccountPart): void {
  document.dispatchEvent(new CustomEvent<AccountPart>('account-changed', { detail: part }))
}

export function onChange(listener: (part: AccountPart) => void): void {
  document.addEventListener('account-changed', (event) => listener((event as CustomEvent<AccountPart>).detail))
}
