import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DemoBrowser, eventually, startDemoBrowser } from '../support/demo-browser.ts'

/**
 * "Sign in with Shopify" on the demo account page in a real browser (Debian's Chromium driven by playwright-core),
 * against the app in demo mode with the embedded Recharge simulator and the Shopify stand-in: the stand-in issues the
 * shopper's Customer Account access token, the page exchanges it at POST /v1/auth/shopify, and the shopper's
 * subscriptions and "Manage Subscriptions" link follow. A Shopify shopper without subscriptions is told so.
 * Screenshots go to test/artifacts/demo-shopify/.
 */
let demo: DemoBrowser
let base: string
let page: Page

beforeAll(async () => {
  demo = await startDemoBrowser({ artifacts: 'demo-shopify', shopify: true })
  ;({ base, page } = demo)
})

afterAll(async () => {
  await demo?.close()
})

describe('demo storefront: Sign in with Shopify', () => {
  it('signs alice in through the Shopify stand-in and shows her subscriptions', async () => {
    await page.goto(`${base}/demo/account`)
    await page.fill('#sign-in-email', 'alice@example.com')
    await demo.shot('01-sign-in')
    const exchange = page.waitForResponse((response) => response.url().endsWith('/v1/auth/shopify'))
    await page.getByRole('button', { name: 'Sign in with Shopify' }).click()
    expect((await exchange).status()).toBe(200)
    await page.locator('[data-account]').waitFor({ state: 'visible' })
    await eventually(() => page.locator('[data-account-email]').textContent()).toMatch(/alice@example\.com/)
    await eventually(() => page.locator('[data-subscription-list] .subscription').count()).toBeGreaterThan(0)
    await eventually(() => page.locator('[data-manage-link]').getAttribute('aria-disabled')).not.toBe('true')
    await demo.shot('02-signed-in')
    await page.getByRole('button', { name: 'Sign out' }).click()
  })

  it('tells a Shopify shopper without subscriptions so', async () => {
    await page.goto(`${base}/demo/account`)
    await page.fill('#sign-in-email', 'grace@example.com')
    demo.expectedConsoleError = /404/
    await page.getByRole('button', { name: 'Sign in with Shopify' }).click()
    await eventually(() => page.locator('[data-sign-in-status]').textContent()).toBe('You have no subscriptions yet.')
    demo.expectedConsoleError = null
    await demo.shot('03-no-subscriptions')
    expect(demo.pageErrors).toEqual([])
  })
})
