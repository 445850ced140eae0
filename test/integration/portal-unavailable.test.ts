import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { testConfig } from '../support/config.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * "Manage Subscriptions" on a bridge whose hosted portal is not configured (no RECHARGE_STORE_SUBDOMAIN, as the
 * standalone-simulator settings once left it): a shopper's browser following the link gets a page it can read, an
 * API client still gets problem+json 503 PORTAL_UNAVAILABLE.
 */
const ADMIN_KEY = 'portal-unavailable-admin-key-0123456789'
let sim: TestSimulator
let app: FastifyInstance
let token: string

beforeAll(async () => {
  sim = await startTestSimulator()
  app = await buildApp(
    testConfig({ RECHARGE_API_URL: sim.url, RECHARGE_API_TOKEN: sim.apiToken, ADMIN_API_KEY: ADMIN_KEY }),
    { redis: null, backgroundWorkers: false },
  )
  await app.ready()
  const minted = await app.inject({
    method: 'POST',
    url: '/v1/admin/customer-tokens',
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
    payload: { email: 'alice@example.com' },
  })
  token = (minted.json() as { token: string }).token
})

afterAll(async () => {
  await app?.close()
  await sim?.close()
})

async function portalLinkPath(): Promise<string> {
  const link = await app.inject({
    method: 'POST',
    url: '/v1/portal/links',
    headers: { authorization: `Bearer ${token}` },
    payload: {},
  })
  expect(link.statusCode).toBe(200)
  const url = new URL((link.json() as { url: string }).url)
  return url.pathname + url.search
}

describe('portal hand-off without a configured portal', () => {
  it('answers a browser with a readable 503 page, no JSON and no portal reference', async () => {
    const page = await app.inject({
      url: await portalLinkPath(),
      headers: { accept: 'text/html,application/xhtml+xml' },
    })
    expect(page.statusCode).toBe(503)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    expect(page.body).toContain('Subscription management is unavailable')
    expect(page.body).not.toContain('PORTAL_UNAVAILABLE')
    expect(page.headers['cache-control']).toBe('private, no-store')
  })

  it('answers an API client with problem+json 503 PORTAL_UNAVAILABLE', async () => {
    const problem = await app.inject({ url: await portalLinkPath(), headers: { accept: 'application/json' } })
    expect(problem.statusCode).toBe(503)
    expect(problem.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(problem.json()).toMatchObject({ code: 'PORTAL_UNAVAILABLE' })
  })
})
