import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { buildDemoAssets } from '../../src/demo/bundle.ts'
import { type EmbeddedSimulator, startEmbeddedSimulator } from '../../src/simulator/embedded.ts'

/**
 * The account page's deliveries section in a real browser (Debian's Chromium, playwright-core), against the app in
 * demo mode with the embedded simulator: add a one-time product to the next delivery and see it there; skip the
 * delivery after next from the schedule and see it marked skipped; restore it. Screenshots go to
 * test/artifacts/demo-deliveries/.
 */
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const artifacts = new URL('../artifacts/demo-deliveries/', import.meta.url).pathname

let simulator: EmbeddedSimulator
let app: FastifyInstance
let base: string
let context: BrowserContext
let page: Page
let userDataDir: string
const pageErrors: string[] = []

function eventually<T>(read: () => T | Promise<T>) {
  return expect.poll(read, { timeout: 15_000, interval: 100 })
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (!address || typeof address !== 'object') throw new Error('no free port')
  return address.port
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true })
}

beforeAll(async () => {
  await mkdir(artifacts, { recursive: true })
  await buildDemoAssets()
  simulator = await startEmbeddedSimulator()
  const port = await freePort()
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
  })
  app = await buildApp(
    Object.freeze({
      ...config,
      RECHARGE_API_URL: simulator.url,
      RECHARGE_API_TOKEN: simulator.apiToken,
      RECHARGE_WEBHOOK_SECRET: simulator.clientSecret,
      RECHARGE_STORE_SUBDOMAIN: simulator.storeSubdomain,
    }),
    // No webhook registration (see demo-browser.test.ts): the pages under test are the shopper's.
    { redis: null, webhooks: { watchdog: false } },
  )
  await app.listen({ port, host: '127.0.0.1' })
  base = `http://127.0.0.1:${port}`

  userDataDir = await mkdtemp(join(tmpdir(), 'rb-demo-deliveries-chromium-'))
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    viewport: { width: 1280, height: 900 },
    locale: 'en-US',
    timezoneId: 'UTC',
  })
  page = context.pages()[0] ?? (await context.newPage())
  page.setDefaultTimeout(15_000)
  const ours = () => page.url().startsWith(`${base}/demo`)
  page.on('pageerror', (error) => {
    if (ours()) pageErrors.push(`pageerror: ${error.message}`)
  })
  page.on('console', (message) => {
    if (message.type() === 'error' && ours()) pageErrors.push(`console: ${message.text()}`)
  })
})

afterAll(async () => {
  await context?.close()
  await app?.close()
  await simulator?.close()
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true })
})

describe('demo account page: deliveries', () => {
  it('adds a one-time product to the next delivery, and skips the delivery after next', async () => {
    await page.goto(`${base}/demo/account`)
    await page.fill('#sign-in-email', 'alice@example.com')
    await page.getByRole('button', { name: 'Sign in' }).click()
    const section = page.locator('[data-deliveries]')
    await section.waitFor({ state: 'visible' })
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
    expect(pageErrors).toEqual([])
  })
})
