import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { Metrics } from '../../src/plugins/metrics.ts'
import { SeriesHistogram } from '../../src/plugins/series-histogram.ts'
import { testConfig } from '../support/config.ts'

function sample(metrics: string, line: string): number {
  const found = metrics.split('\n').find((entry) => entry.startsWith(`${line} `))
  if (!found) throw new Error(`no sample ${line}`)
  return Number(found.split(' ').at(-1))
}

describe('request duration metrics', () => {
  let app: FastifyInstance
  beforeAll(async () => {
    app = await buildApp(testConfig({ RECHARGE_API_TOKEN: 'test-token', RECHARGE_API_URL: 'http://127.0.0.1:9' }), {
      redis: null,
      backgroundWorkers: false,
    })
    await app.ready()
  })
  afterAll(() => app.close())

  it('counts every response by method, route pattern and status in a Prometheus histogram', async () => {
    for (let i = 0; i < 3; i++) expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200)
    expect((await app.inject({ url: '/v1/no/such/route' })).statusCode).toBe(404)
    const metrics = (await app.inject({ url: '/metrics' })).body
    expect(metrics).toContain('# TYPE recharge_bridge_http_request_duration_seconds histogram')
    const healthz = 'method="GET",route="/healthz",status_code="200"'
    expect(sample(metrics, `recharge_bridge_http_request_duration_seconds_count{${healthz}}`)).toBe(3)
    expect(sample(metrics, `recharge_bridge_http_request_duration_seconds_bucket{le="+Inf",${healthz}}`)).toBe(3)
    expect(sample(metrics, `recharge_bridge_http_request_duration_seconds_sum{${healthz}}`)).toBeGreaterThan(0)
    // Unmatched URLs share one series: raw paths never become label values.
    expect(
      sample(
        metrics,
        'recharge_bridge_http_request_duration_seconds_count{method="GET",route="unmatched",status_code="404"}',
      ),
    ).toBe(1)
    expect(metrics).not.toContain('/v1/no/such/route')
  })

  it('buckets are cumulative with the usual le bounds', async () => {
    const histogram = new SeriesHistogram('d', 'help', [0.005, 0.025, 10])
    const series = histogram.seriesFor('k', () => ({ route: '/x' }))
    for (const seconds of [0.003, 0.005, 0.02, 20]) histogram.observe(series, seconds)
    const { values } = await histogram.get()
    const bucket = (le: number | string) => values.find((v) => v.metricName === 'd_bucket' && v.labels.le === le)?.value
    expect([bucket(0.005), bucket(0.025), bucket(10), bucket('+Inf')]).toEqual([2, 3, 3, 4])
    expect(values.find((v) => v.metricName === 'd_count')?.value).toBe(4)
    expect(values.find((v) => v.metricName === 'd_sum')?.value).toBeCloseTo(20.028)
  })

  it('series counters render as Prometheus counters, one line per label set', async () => {
    const metrics = new Metrics()
    const counter = metrics.seriesCounter('recharge_bridge_upstream_total', 'Answers by operation and status')
    expect(metrics.seriesCounter('recharge_bridge_upstream_total', 'again')).toBe(counter)
    const ok = counter.seriesFor('GET /x 200', () => ({ operation: 'GET /x', status: '200' }))
    counter.inc(ok)
    counter.inc(ok)
    counter.inc(
      counter.seriesFor('GET /x 503', () => ({ operation: 'GET /x', status: '503' })),
      3,
    )
    const text = await metrics.registry.metrics()
    expect(text).toContain('# TYPE recharge_bridge_upstream_total counter')
    expect(sample(text, 'recharge_bridge_upstream_total{operation="GET /x",status="200"}')).toBe(2)
    expect(sample(text, 'recharge_bridge_upstream_total{operation="GET /x",status="503"}')).toBe(3)
  })
})
