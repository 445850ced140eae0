import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { expect } from 'vitest'
import { type AppDeps, buildApp } from '../../src/app.ts'
import { type Config, loadConfig } from '../../src/config.ts'
import { buildDemoAssets } from '../../src/demo/bundle.ts'
import { startEmbeddedShopifySimulator } from '../../src/shopify-simulator/embedded.ts'
import { type EmbeddedSimulator, startEmbeddedSimulator } from '../../src/simulator/embedded.ts'
import { freePort } from '../../tools/free-port.ts'

/**
 * The demo storefront in a real browser, as the browser tests (test/e2e/demo-*-browser.test.ts) use it: the app in
 * demo mode against the embedded simulator, as `npm start` runs it, and Debian's Chromium driven by playwright-core.
 * Errors on the bridge's own pages are collected in `pageErrors`; screenshots go to test/artifacts/<name>/.
 */
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export interface DemoBrowser {
  simulator: EmbeddedSimulator
  app: FastifyInstance
  /** The bridge's base URL (http://127.0.0.1:<port>). */
  base: string
  page: Page
  context: BrowserContext
  /** `pageerror`s and console errors of the bridge's pages (the simulator's stand-in portal is not ours). */
  pageErrors: string[]
  /** Console errors matching this are expected by the test running now (a provoked 4xx); set and clear it. */
  expectedConsoleError: RegExp | null
  shot(name: string): Promise<void>
  close(): Promise<void>
}

export interface DemoBrowserOptions {
  /** Folder under test/artifacts/ for screenshots. */
  artifacts: string
  /** Extra app dependencies (defaults: no Redis, webhook registration running as in demo mode). */
  deps?: Partial<AppDeps>
  /** Extra environment for the app's config (e.g. POLICY_FILE). */
  env?: Record<string, string>
  /** Also start the Shopify stand-in and point the bridge at it, as demo mode does (Sign in with Shopify). */
  shopify?: boolean
}

/** Waits for what the page shows, as long as a slow CI machine may need (vitest's default is one second). */
export function eventually<T>(read: () => T | Promise<T>) {
  return expect.poll(read, { timeout: 15_000, interval: 100 })
}

/**
 * Demo mode as src/server.ts wires it: the embedded simulator stands in for Recharge. The port is chosen up front
 * because PUBLIC_URL (which the portal links point at) must name it.
 */
export function demoConfig(sim: EmbeddedSimulator, port: number, env: Record<string, string> = {}): Config {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    ...env,
  })
  return Object.freeze({
    ...config,
    RECHARGE_API_URL: sim.url,
    RECHARGE_API_TOKEN: sim.apiToken,
    RECHARGE_WEBHOOK_SECRET: sim.clientSecret,
    RECHARGE_STORE_SUBDOMAIN: sim.storeSubdomain,
  })
}

export async function startDemoBrowser(options: DemoBrowserOptions): Promise<DemoBrowser> {
  const artifacts = new URL(`../artifacts/${options.artifacts}/`, import.meta.url).pathname
  await mkdir(artifacts, { recursive: true })
  await buildDemoAssets()
  const simulator = await startEmbeddedSimulator()
  const shopify = options.shopify ? await startEmbeddedShopifySimulator() : undefined
  const shopifyEnv: Record<string, string> = shopify
    ? {
        SHOPIFY_SHOP_DOMAIN: shopify.options.shopDomain,
        SHOPIFY_API_URL: shopify.url,
        SHOPIFY_APP_SECRET: shopify.options.appSecret,
        SHOPIFY_APP_CLIENT_ID: shopify.options.clientId,
        SHOPIFY_STOREFRONT_TOKEN: shopify.options.storefrontToken,
      }
    : {}
  const port = await freePort()
  const app = await buildApp(demoConfig(simulator, port, { ...shopifyEnv, ...options.env }), {
    redis: null,
    ...options.deps,
  })
  await app.listen({ port, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${port}`

  const userDataDir = await mkdtemp(join(tmpdir(), `rb-${options.artifacts}-chromium-`))
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
    viewport: { width: 1280, height: 900 },
    // The assertions read dates and prices as an en-US shopper sees them, whatever the CI machine's locale.
    locale: 'en-US',
    timezoneId: 'UTC',
  })
  const page = context.pages()[0] ?? (await context.newPage())
  page.setDefaultTimeout(15_000)

  const browser: DemoBrowser = {
    simulator,
    app,
    base,
    page,
    context,
    pageErrors: [],
    expectedConsoleError: null,
    shot: async (name) => {
      await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true })
    },
    close: async () => {
      await context.close()
      await app.close()
      await simulator.close()
      await shopify?.close()
      await rm(userDataDir, { recursive: true, force: true })
    },
  }
  const ours = () => page.url().startsWith(`${base}/demo`)
  page.on('pageerror', (error) => {
    if (ours()) browser.pageErrors.push(`pageerror: ${error.message} at ${page.url()}`)
  })
  page.on('console', (message) => {
    if (message.type() !== 'error' || !ours()) return
    if (browser.expectedConsoleError?.test(message.text())) return
    browser.pageErrors.push(`console: ${message.text()} at ${page.url()}`)
  })
  return browser
}

/** Signs in on the demo account page as `email` (demo sign-in: the demo mints the shopper's token). */
export async function signInToAccount(browser: DemoBrowser, email: string): Promise<void> {
  const { page, base } = browser
  await page.goto(`${base}/demo/account`)
  await page.fill('#sign-in-email', email)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
}
