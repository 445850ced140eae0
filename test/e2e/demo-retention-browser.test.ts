import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { EmbeddedSimulator } from '../../src/simulator/embedded.ts'
import { type DemoBrowser, eventually, signInToAccount, startDemoBrowser } from '../support/demo-browser.ts'

/**
 * Keep the subscriber on the demo account page, in a real browser (Debian's Chromium driven by playwright-core)
 * against the app in demo mode with the embedded simulator: start to cancel and take a discount offer instead;
 * pause and resume; apply a discount code; order now (turned on by the policy file). Each test signs in as another
 * seeded shopper, so none sees another's changes. Screenshots go to test/artifacts/demo-retention/.
 */
let demo: DemoBrowser
let simulator: EmbeddedSimulator
let base: string
let page: Page
let policyDir: string
const shot = (name: string) => demo.shot(name)

interface SimState {
  customers: { id: number; email: string }[]
  addresses: { id: number; customer_id: number; discounts: { id: number }[] }[]
}

async function simState(): Promise<SimState> {
  return (await (await fetch(`${simulator.url}/__sim/state`)).json()) as SimState
}

/** Signs in on the account page as a seeded shopper; the first active subscription card, once decorated. */
async function signInAs(email: string) {
  await signInToAccount(demo, email)
  const card = page.locator('.subscription:not(.is-cancelled)').first()
  await card.waitFor({ state: 'visible' })
  await card.locator('[data-retention]').waitFor({ state: 'attached' })
  return card
}

beforeAll(async () => {
  // A policy file that also lets shoppers order now (off in the default policy).
  policyDir = await mkdtemp(join(tmpdir(), 'rb-demo-retention-policy-'))
  const policyFile = join(policyDir, 'policy.json')
  await writeFile(policyFile, JSON.stringify({ actions: { order_now: true } }))
  demo = await startDemoBrowser({
    artifacts: 'demo-retention',
    deps: { webhooks: { watchdog: false } },
    env: { POLICY_FILE: policyFile },
  })
  ;({ simulator, base, page } = demo)
  // A refused discount code is a 422 the page explains; the browser logs the response too.
  demo.expectedConsoleError = /status of 422/
})

afterAll(async () => {
  await demo?.close()
  if (policyDir) await rm(policyDir, { recursive: true, force: true })
})

describe('keep the subscriber on the demo account page', () => {
  beforeEach(async () => {
    await page.goto(`${base}/demo`)
    await page.evaluate(() => {
      localStorage.clear()
      sessionStorage.clear()
    })
  })

  it('starts to cancel, sees the store’s offer for the reason, and takes the discount instead', async () => {
    const card = await signInAs('alice@example.com')
    const id = await card.getAttribute('data-subscription-id')
    await card.getByRole('button', { name: 'Cancel', exact: true }).click()
    const reason = card.getByLabel('Why are you cancelling?')
    await reason.waitFor({ state: 'visible' })
    await eventually(() => reason.locator('option').allTextContents()).toContain('It is too expensive')
    await reason.selectOption({ label: 'It is too expensive' })
    const offers = card.locator('[data-retention-offers]')
    await offers.waitFor({ state: 'visible' })
    expect(await offers.textContent()).toMatch(/STAYWITHUS15/)
    await shot('01-cancel-offers')
    await offers.getByRole('button', { name: 'Accept offer' }).click()
    const fresh = page.locator(`li[data-subscription-id="${id}"]`)
    await eventually(() => fresh.locator('[data-field="status-line"]').textContent()).toMatch(/Offer accepted/)
    expect(await fresh.locator('[data-field="status"]').textContent()).toBe('active')
    await shot('02-offer-accepted')
    const state = await simState()
    const alice = state.customers.find((row) => row.email === 'alice@example.com')
    const discounted = state.addresses.filter((row) => row.customer_id === alice?.id && row.discounts.length > 0)
    expect(discounted).toHaveLength(1)
  })

  it('pauses for a delivery, shows the pause, and resumes', async () => {
    const card = await signInAs('bob@example.com')
    const id = await card.getAttribute('data-subscription-id')
    const before = await card.locator('[data-field="next"]').textContent()
    await card.getByRole('button', { name: 'Pause', exact: true }).click()
    await card.getByLabel('Pause for').selectOption('1')
    await card.getByRole('button', { name: 'Pause subscription' }).click()
    const fresh = page.locator(`li[data-subscription-id="${id}"]`)
    await eventually(() => fresh.locator('[data-field="status-line"]').textContent()).toMatch(/paused/i)
    await eventually(() => fresh.locator('[data-retention-paused]').textContent()).toMatch(/Paused until/)
    expect(await fresh.locator('[data-field="next"]').textContent()).not.toBe(before)
    await shot('03-paused')
    await fresh.locator('[data-retention]').waitFor({ state: 'attached' })
    await fresh.getByRole('button', { name: 'Resume' }).click()
    const again = page.locator(`li[data-subscription-id="${id}"]`)
    await eventually(() => again.locator('[data-field="status-line"]').textContent()).toMatch(/resumed/i)
    await eventually(() => again.locator('[data-field="next"]').textContent()).toBe(before)
    expect(await again.locator('[data-retention-paused]').isHidden()).toBe(true)
    await shot('04-resumed')
  })

  it('applies a discount code, and explains a code the store does not know', async () => {
    const card = await signInAs('carol@example.com')
    const id = await card.getAttribute('data-subscription-id')
    await card.getByLabel('Discount code').fill('NOSUCHCODE')
    await card.getByRole('button', { name: 'Apply code' }).click()
    await eventually(() => card.locator('[data-field="status-line"]').textContent()).toMatch(/do not know that/i)
    await card.getByLabel('Discount code').fill('WELCOME10')
    await card.getByRole('button', { name: 'Apply code' }).click()
    const fresh = page.locator(`li[data-subscription-id="${id}"]`)
    await eventually(() => fresh.locator('[data-field="status-line"]').textContent()).toMatch(/WELCOME10 applied/)
    await shot('05-code-applied')
    const state = await simState()
    const carol = state.customers.find((row) => row.email === 'carol@example.com')
    expect(state.addresses.some((row) => row.customer_id === carol?.id && row.discounts.length > 0)).toBe(true)
  })

  it('orders the next delivery now where the store allows it', async () => {
    let card = await signInAs('dave@example.com')
    const id = await card.getAttribute('data-subscription-id')
    // The list reads the upcoming charges as an optional read, which gives up while the bucket is busy (as for skip,
    // see demo-browser.test.ts); order now is offered once they are read, so the page is reloaded until then.
    await eventually(async () => {
      if (await card.getByRole('button', { name: 'Order now' }).isVisible()) return true
      await page.reload()
      card = page.locator(`li[data-subscription-id="${id}"]`)
      await card.locator('[data-retention]').waitFor({ state: 'attached' })
      return false
    }).toBe(true)
    await card.getByRole('button', { name: 'Order now' }).click()
    const fresh = page.locator(`li[data-subscription-id="${id}"]`)
    await eventually(() => fresh.locator('[data-field="status-line"]').textContent()).toMatch(/ordered/i)
    await shot('06-ordered-now')
    const state = (await (await fetch(`${simulator.url}/__sim/state`)).json()) as {
      orders: { line_items: { purchase_item_id: number | null }[]; created_at: string }[]
    }
    const today = new Date().toISOString().slice(0, 10)
    expect(
      state.orders.some(
        (order) =>
          order.created_at.startsWith(today) && order.line_items.some((line) => String(line.purchase_item_id) === id),
      ),
    ).toBe(true)
    expect(demo.pageErrors).toEqual([])
  })
})
