import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { testConfig } from '../support/config.ts'

const METRICS_TOKEN = 'metrics-access-test-token-0123456789'
const apps: FastifyInstance[] = []

async function app(overrides: Record<string, string> = {}): Promise<FastifyInstance> {
  const built = await buildApp(
    testConfig({ RECHARGE_API_TOKEN: 'test-token', RECHARGE_API_URL: 'http://127.0.0.1:9', ...overrides }),
    { redis: null, backgroundWorkers: false },
  )
  apps.push(built)
  await built.ready()
  return built
}

afterEach(async () => {
  for (const built of apps.splice(0)) await built.close()
})

/** Metric names of an exposition: the name of every sample line. */
function metricNames(exposition: string): string[] {
  return exposition
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.split(/[{ ]/)[0] as string)
}

describe('/metrics access', () => {
  it('with METRICS_TOKEN refuses a scrape without the bearer token or with another one (401 problem)', async () => {
    const bridge = await app({ METRICS_TOKEN })
    const anonymous = await bridge.inject({ url: '/metrics' })
    expect(anonymous.statusCode).toBe(401)
    expect(anonymous.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(anonymous.json()).toMatchObject({ code: 'UNAUTHENTICATED' })
    expect(anonymous.headers['www-authenticate']).toBe('Bearer')
    expect(anonymous.body).not.toContain('recharge_bridge_')
    const wrong = await bridge.inject({ url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}x` } })
    expect(wrong.statusCode).toBe(401)
  })

  it('with METRICS_TOKEN serves the exposition to a scrape that presents it', async () => {
    const bridge = await app({ METRICS_TOKEN })
    const scrape = await bridge.inject({ url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    expect(scrape.statusCode).toBe(200)
    expect(scrape.body).toContain('# TYPE recharge_bridge_http_request_duration_seconds histogram')
  })

  it('names every exported metric recharge_bridge_*, process and runtime metrics included', async () => {
    const bridge = await app()
    await bridge.inject({ url: '/healthz' })
    const names = metricNames((await bridge.inject({ url: '/metrics' })).body)
    expect(names.length).toBeGreaterThan(20)
    expect(names.filter((name) => !name.startsWith('recharge_bridge_'))).toEqual([])
    expect(names).toContain('recharge_bridge_process_cpu_seconds_total')
  })

  it('refuses to register a metric outside the recharge_bridge_ namespace', async () => {
    const bridge = await app()
    expect(() => bridge.metrics.counter('cache_lookups_total', 'unprefixed')).toThrow(/recharge_bridge_/)
  })

  it('with METRICS_PORT serves /metrics on that port only (behind METRICS_TOKEN when both are set)', async () => {
    const bridge = await app({ METRICS_PORT: '0', METRICS_TOKEN })
    expect((await bridge.inject({ url: '/metrics' })).statusCode).toBe(404)
    const { port } = (bridge.metricsServer as Server).address() as AddressInfo
    const base = `http://127.0.0.1:${port}`
    expect((await fetch(`${base}/metrics`)).status).toBe(401)
    expect((await fetch(`${base}/healthz`)).status).toBe(404)
    const scrape = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    expect(scrape.status).toBe(200)
    expect(await scrape.text()).toContain('recharge_bridge_http_request_duration_seconds')
  })
})
