import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DemoBrowser, eventually, startDemoBrowser } from '../support/demo-browser.ts'

/**
 * The account page's deliveries section in a real browser (Debian's Chromium, playwright-core), against the app in
 * demo mode with the embedded simulator: add a one-time product to the next delivery and see it there; skip the
 * delivery after next from the schedule and see it marked skipped; restore it. Screenshots go to
 * test/artifacts/demo-deliveries/.
 */
let demo: DemoBrowser
let base: string
let page: Page
const shot = (name: string) => demo.shot(name)

beforeAll(async () => {
  demo = await startDemoBrowser({ artifacts: 'demo-deliveries' })
  ;({ base, page } = demo)
})

afterAll(async () => {
  await demo?.close()
})

describe('demo account page: deliveries', () => {
  it('adds a one-time product to the next delivery, and skips the delivery after next', async () => {
    await page.goto(`${base}/demo/account`)
    await page.fill('#sign-in-email', 'alice@example.com')
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    const section = page.locator('[data-deliveries]')
    await section.waitFor({ state: 'visible' })
    // Folded until opened: the schedule costs upstream calls only for a shopper who looks at it.
    expect(await page.locator('[data-delivery-list]').isVisible()).toBe(false)
    await section.getByText('Upcoming deliveries').click()
    const deliveries = page.locator('[data-delivery-list] > li')
    await eventually(() => deliveries.count()).toBeGreaterThan(2)
    await eventually(() => page.locator('[data-onetime-variant] option').count()).toBeGreaterThan(0)
    await shot('01-schedule')

    // Add to next box: the dripper, twice.
    await page.selectOption('[data-onetime-variant]', { label: 'Ceramic Pour-Over Dripper · White ($32.00)' })
    await page.fill('[data-onetime-form] input[name="quantity"]', '2')
    await page.getByRole('button', { name: 'Add to next box' }).click()
    await eventually(() => page.locator('[data-deliveries-status]').textContent()).toMatch(/Added to your delivery/)
    const next = deliveries.first()
    await eventually(() => next.locator('li[data-kind="onetime"]').textContent()).toMatch(
      /2 × Ceramic Pour-Over Dripper · White — \$64\.00 \(one-time\)/,
    )
    await eventually(() => page.locator('[data-onetime-list] li').first().textContent()).toMatch(
      /2 × Ceramic Pour-Over Dripper/,
    )
    await shot('02-added-to-next-box')

    // Skip the delivery after next.
    const afterNext = deliveries.nth(1)
    const date = await afterNext.getAttribute('data-delivery-date')
    expect(await afterNext.getAttribute('data-status')).not.toBe('skipped')
    await afterNext.getByRole('button', { name: /^Skip the delivery of/ }).click()
    const skipped = page.locator(`[data-delivery-list] > li[data-delivery-date="${date}"]`)
    await eventually(() => skipped.getAttribute('data-status')).toBe('skipped')
    await eventually(() => skipped.locator('.pill').textContent()).toBe('skipped')
    await shot('03-skipped-after-next')

    // A delivery with no charge yet is skipped by its date.
    const scheduled = page.locator('[data-delivery-list] > li[data-status="scheduled"]').first()
    const scheduledDate = await scheduled.getAttribute('data-delivery-date')
    await scheduled.getByRole('button', { name: /^Skip the delivery of/ }).click()
    const byDate = page.locator(`[data-delivery-list] > li[data-delivery-date="${scheduledDate}"]`).first()
    await eventually(() => byDate.getAttribute('data-status')).toBe('skipped')

    // Restore the one after next; remove the one-time item.
    await skipped.getByRole('button', { name: /^Unskip the delivery of/ }).click()
    await eventually(() => skipped.getAttribute('data-status')).not.toBe('skipped')
    await page.getByRole('button', { name: 'Remove Ceramic Pour-Over Dripper' }).click()
    await eventually(() => page.locator('[data-onetime-list]').textContent()).toMatch(/No one-time items yet/)
    await eventually(() => next.locator('li[data-kind="onetime"]').count()).toBe(0)
    await shot('04-restored')

    // A skip made on a subscription card shows in the open schedule without a reload.
    const card = page.locator('.subscription').filter({ has: page.getByRole('button', { name: 'Skip next delivery' }) })
    const title = (await card.first().locator('[data-field="title"]').textContent()) ?? ''
    const before = await deliveries.first().locator('.delivery-lines li.is-skipped').count()
    await card.first().getByRole('button', { name: 'Skip next delivery' }).click()
    await eventually(() => deliveries.first().locator('.delivery-lines li.is-skipped').count()).toBeGreaterThan(before)
    expect(await deliveries.first().locator('.delivery-lines li.is-skipped').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining(title)]),
    )
    expect(demo.pageErrors).toEqual([])
  })
})
