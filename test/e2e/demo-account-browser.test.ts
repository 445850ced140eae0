import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EmbeddedSimulator } from '../../src/simulator/embedded.ts'
import { type DemoBrowser, eventually, startDemoBrowser } from '../support/demo-browser.ts'

/**
 * The account page in a real browser (Debian's Chromium driven by playwright-core) against the app in demo mode with
 * the embedded simulator: frank@example.com, whose last payment failed, sees the banner and asks for the update
 * email (which the simulator's /__sim/notifications then lists), changes his name, opens an old order, and adds an
 * address. Screenshots go to test/artifacts/demo-account/.
 */
const FRANK = 'frank@example.com'

let demo: DemoBrowser
let simulator: EmbeddedSimulator
let base: string
let page: Page

interface SimCustomer {
  id: number
  email: string
  first_name: string
}

async function simState(): Promise<{ customers: SimCustomer[]; addresses: { customer_id: number }[] }> {
  const response = await fetch(`${simulator.url}/__sim/state`)
  return (await response.json()) as { customers: SimCustomer[]; addresses: { customer_id: number }[] }
}

async function frank(): Promise<SimCustomer> {
  const customer = (await simState()).customers.find((row) => row.email === FRANK)
  if (!customer) throw new Error('frank is not seeded')
  return customer
}

async function notificationsOf(customerId: number): Promise<{ template_type: string }[]> {
  const response = await fetch(`${simulator.url}/__sim/notifications?customer_id=${customerId}`)
  return ((await response.json()) as { notifications: { template_type: string }[] }).notifications
}

const shot = (name: string) => demo.shot(name)

beforeAll(async () => {
  demo = await startDemoBrowser({ artifacts: 'demo-account' })
  ;({ simulator, base, page } = demo)
  // Signed in as frank once for the whole file: each test goes on from where the last left the page.
  await page.goto(`${base}/demo/account`)
  await page.fill('#sign-in-email', FRANK)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.locator('[data-account]').waitFor({ state: 'visible' })
}, 120_000)

afterAll(async () => {
  await demo?.close()
})

describe('the account page of a shopper whose payment failed', () => {
  it('shows the dunning banner and the failing card, and sends the update email', async () => {
    const banner = page.locator('[data-payment-alert]')
    await banner.waitFor({ state: 'visible' })
    expect(await banner.getAttribute('role')).toBe('alert')
    await eventually(() => banner.locator('[data-payment-alert-message]').textContent()).toMatch(
      /did not go through.*card ending \d{4}/,
    )
    // The payment methods are folded until opened (they cost an upstream call).
    await page.locator('[data-payment-methods-section] summary').click()
    const methods = page.locator('[data-payment-method-list] li')
    await eventually(() => methods.count()).toBe(1)
    expect(await methods.first().textContent()).toMatch(/Visa ending \d{4}.*Expired/)
    await shot('01-dunning-banner')

    const customer = await frank()
    expect(await notificationsOf(customer.id)).toEqual([])
    await banner.getByRole('button', { name: /update my card/i }).click()
    await eventually(() => banner.locator('[data-payment-alert-status]').textContent()).toMatch(/Check your inbox/)
    await eventually(async () => (await notificationsOf(customer.id)).map((row) => row.template_type)).toEqual([
      'shopify_update_payment_information',
    ])
    // A second request within the window is refused politely, and sends nothing.
    await methods.first().getByRole('button', { name: 'Email me an update link' }).click()
    await eventually(() => methods.first().locator('.status').textContent()).toMatch(/Too many attempts/)
    expect(await notificationsOf(customer.id)).toHaveLength(1)
    await shot('02-update-link-sent')
  })

  it('changes the name in the profile form', async () => {
    const form = page.locator('[data-profile-form]')
    await eventually(() => form.getByLabel('First name').inputValue()).toBe('Frank')
    await form.getByLabel('First name').fill('Franklin')
    await form.getByRole('button', { name: 'Save details' }).click()
    await eventually(() => page.locator('[data-profile-status]').textContent()).toBe('Your details are saved.')
    expect((await frank()).first_name).toBe('Franklin')
    await eventually(() => page.locator('[data-account-email]').textContent()).toMatch(/^Franklin Fischer · /)
    await shot('03-profile-saved')
  })

  it('opens an old order with its items and shipping address', async () => {
    await page.locator('[data-orders-section] > summary').click()
    const orders = page.locator('[data-order-list] li')
    await eventually(() => orders.count()).toBeGreaterThan(0)
    await orders
      .last()
      .getByRole('button', { name: /View details/ })
      .click()
    const detail = page.locator('[data-order-detail]')
    await detail.waitFor({ state: 'visible' })
    await eventually(() => detail.locator('[data-order-detail-lines] li').first().textContent()).toMatch(
      /Morning Ritual Coffee/,
    )
    expect(await detail.locator('[data-order-detail-address]').textContent()).toMatch(/Shipped to .*12 Pearl Street/)
    await shot('04-order-details')
  })

  it('adds an address', async () => {
    const customer = await frank()
    const before = (await simState()).addresses.filter((row) => row.customer_id === customer.id).length
    await page.locator('[data-addresses-section] > summary').click()
    await eventually(() => page.locator('[data-address-list] li').count()).toBe(before)
    await page.locator('[data-address-create] summary').click()
    const form = page.locator('[data-address-form]')
    await form.getByLabel('First name').fill('Frank')
    await form.getByLabel('Last name').fill('Fischer')
    await form.getByLabel('Address', { exact: true }).fill('500 Office Park')
    await form.getByLabel('City').fill('Boulder')
    await form.getByLabel('State / province').fill('Colorado')
    await form.getByLabel('ZIP / postal code').fill('80301')
    await form.getByRole('button', { name: 'Add address' }).click()
    await eventually(() => page.locator('[data-address-status]').textContent()).toBe('Address added.')
    await eventually(() => page.locator('[data-address-list] li').count()).toBe(before + 1)
    expect((await simState()).addresses.filter((row) => row.customer_id === customer.id)).toHaveLength(before + 1)
    await shot('05-address-added')
  })

  it('raised no page errors beyond the one refused request it provoked', () => {
    expect(demo.pageErrors.filter((line) => !/status of 429/.test(line))).toEqual([])
  })
})
