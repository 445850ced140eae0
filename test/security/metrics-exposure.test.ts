import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { testConfig } from '../support/config.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * Attack: read the bridge's traffic, error rates and upstream budget from a public /metrics. With METRICS_TOKEN set an
 * anonymous or wrong-token scrape learns nothing (no metric name in the answer); with METRICS_PORT the API port has no
 * /metrics at all.
 */
const METRICS_TOKEN = 'security-metrics-token-0123456789abcdef'
let sim: TestSimulator
const apps: FastifyInstance[] = []

async function bridge(overrides: Record<string, string>): Promise<FastifyInstance> {
  const app = await buildApp(
    testConfig({ RECHARGE_API_URL: sim.url, RECHARGE_API_TOKEN: sim.apiToken, ...overrides }),
    { redis: null, backgroundWorkers: false },
  )
  apps.push(app)
  await app.ready()
  return app
}

beforeAll(async () => {
  sim = await startTestSimulator()
})

afterAll(async () => {
  for (const app of apps) await app.close()
  await sim?.close()
})

describe('/metrics exposure', () => {
  it('with METRICS_TOKEN answers an anonymous scrape, a wrong token, another scheme or a malformed header 401 without any metric', async () => {
    const app = await bridge({ METRICS_TOKEN })
    await app.inject({ url: '/v1/catalog/products' })
    for (const authorization of [
      undefined,
      `Bearer ${METRICS_TOKEN.slice(0, -1)}`,
      `Basic ${METRICS_TOKEN}`,
      `Bearer ${METRICS_TOKEN} x`,
    ]) {
      const scrape = await app.inject({ url: '/metrics', headers: authorization ? { authorization } : {} })
      expect(scrape.statusCode, String(authorization)).toBe(401)
      expect(scrape.body).not.toContain('recharge_bridge_')
    }
    const scrape = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    expect(scrape.statusCode).toBe(200)
    expect(scrape.body).toContain('recharge_bridge_recharge_upstream_responses_total')
  })

  it('with METRICS_PORT answers 404 for /metrics on the API port', async () => {
    const app = await bridge({ METRICS_PORT: '0' })
    const scrape = await app.inject({ url: '/metrics' })
    expect(scrape.statusCode).toBe(404)
    expect(scrape.body).not.toContain('recharge_bridge_')
  })
})
