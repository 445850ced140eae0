import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { demoStorefrontEnabled } from '../../src/demo-mode.ts'
import { testConfig } from '../support/config.ts'

/**
 * The demo storefront's safety switches and page hygiene. Its sign-in mints a token for any email, so it must never
 * exist outside demo mode unless explicitly enabled, never in production and never against Recharge itself. Its
 * pages must work under the CSP (same-origin scripts only) and label every control.
 */
const page = (name: string) => readFileSync(new URL(`../../src/demo/public/${name}`, import.meta.url), 'utf8')

describe('when the demo storefront is served', () => {
  it('is on in demo mode (no Recharge token)', () => {
    expect(demoStorefrontEnabled(testConfig())).toBe(true)
  })

  it('is off with a Recharge token unless DEMO_STOREFRONT=true', () => {
    const simulator = { RECHARGE_API_TOKEN: 'sk_test_simulator', RECHARGE_API_URL: 'http://simulator:4010' }
    expect(demoStorefrontEnabled(testConfig(simulator))).toBe(false)
    expect(demoStorefrontEnabled(testConfig({ ...simulator, DEMO_STOREFRONT: 'false' }))).toBe(false)
    expect(demoStorefrontEnabled(testConfig({ ...simulator, DEMO_STOREFRONT: 'true' }))).toBe(true)
  })

  it('is never on against the real Recharge API or in production, whatever DEMO_STOREFRONT says', () => {
    const real = { RECHARGE_API_TOKEN: 'sk_live', DEMO_STOREFRONT: 'true' }
    expect(demoStorefrontEnabled(testConfig(real))).toBe(false)
    expect(demoStorefrontEnabled(testConfig({ ...real, RECHARGE_API_URL: 'https://eu.api.rechargeapps.com' }))).toBe(
      false,
    )
    expect(
      demoStorefrontEnabled(testConfig({ ...real, RECHARGE_API_URL: 'http://simulator:4010', NODE_ENV: 'production' })),
    ).toBe(false)
  })
})

describe('a bridge outside demo mode', () => {
  it.each([
    ['talking to Recharge, even with DEMO_STOREFRONT=true', { RECHARGE_API_TOKEN: 'sk_live', DEMO_STOREFRONT: 'true' }],
    [
      'pointed at a simulator without DEMO_STOREFRONT',
      { RECHARGE_API_TOKEN: 'sk', RECHARGE_API_URL: 'http://127.0.0.1:9' },
    ],
  ])('has no demo pages and no demo sign-in route when %s', async (_case, env) => {
    const app = await buildApp(testConfig(env), { redis: null, backgroundWorkers: false })
    try {
      for (const url of ['/demo', '/demo/account', '/demo/assets/shop.js']) {
        expect((await app.inject(url)).statusCode, url).toBe(404)
      }
      const login = await app.inject({
        method: 'POST',
        url: '/demo/api/login',
        payload: { email: 'alice@example.com' },
      })
      expect(login.statusCode).toBe(404)
      expect(login.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND' })
    } finally {
      await app.close()
    }
  })
})

describe.each(['shop.html', 'account.html'])('demo page %s', (name) => {
  const html = page(name)

  it('loads only same-origin external scripts (the CSP forbids inline code)', () => {
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)]
    expect(scripts.length).toBeGreaterThan(0)
    for (const [, attributes = '', body = ''] of scripts) {
      expect(attributes).toMatch(/\bsrc="\/demo\/assets\/[\w-]+\.js"/)
      expect(body.trim()).toBe('')
    }
    expect(html).not.toMatch(/\son[a-z]+\s*=/i)
    expect(html).not.toMatch(/javascript:/i)
  })

  it('labels every form control and announces status changes', () => {
    const ids = new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((match) => match[1]))
    for (const [, target] of html.matchAll(/<label[^>]*\sfor="([^"]+)"/g)) expect(ids).toContain(target)
    // Controls inside the subscription template are labelled at render time (data-label-for → unique ids).
    const outsideTemplate = html.replace(/<template[\s\S]*?<\/template>/g, '')
    for (const [control] of outsideTemplate.matchAll(/<(input|select|textarea)\b[^>]*>/g)) {
      const id = /\sid="([^"]+)"/.exec(control)?.[1]
      expect(id, control).toBeDefined()
      expect(outsideTemplate, control).toMatch(new RegExp(`<label[^>]*for="${id}"`))
    }
    expect(html).toMatch(/aria-live="polite"/)
    expect(html).toMatch(/<html lang="en">/)
    expect(html).toMatch(/<meta name="viewport"/)
  })
})
