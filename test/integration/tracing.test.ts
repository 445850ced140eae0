import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { testConfig } from '../support/config.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * OpenTelemetry traces through real requests: the bridge (spans exported to memory) in front of the simulator over
 * HTTP. A shopper's request is one SERVER span; each Recharge call under it is a queue-wait span and an upstream
 * CLIENT span, carrying the route, Recharge's resource and the status, and never a token or an email.
 */
const ADMIN_KEY = 'tracing-test-admin-key-0123456789'
const EMAIL = 'alice@example.com'
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'

let sim: TestSimulator
let app: FastifyInstance
const exporter = new InMemorySpanExporter()

beforeAll(async () => {
  sim = await startTestSimulator({ bucketSize: 1000, leakRate: 1000 })
  app = await buildApp(
    testConfig({
      RECHARGE_API_URL: sim.url,
      RECHARGE_API_TOKEN: sim.apiToken,
      RECHARGE_STORE_SUBDOMAIN: sim.storeSubdomain,
      RECHARGE_BUCKET_SIZE: '1000',
      RECHARGE_LEAK_RATE: '1000',
      ADMIN_API_KEY: ADMIN_KEY,
    }),
    { redis: null, backgroundWorkers: false, spanExporter: exporter },
  )
  await app.ready()
})

afterAll(async () => {
  await app?.close()
  await sim?.close()
})

beforeEach(() => exporter.reset())

async function mintToken(headers: Record<string, string> = {}): Promise<string> {
  const minted = await app.inject({
    method: 'POST',
    url: '/v1/admin/customer-tokens',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...headers },
    payload: { email: EMAIL },
  })
  expect(minted.statusCode).toBe(201)
  return (minted.json() as { token: string }).token
}

function named(name: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((span) => span.name === name)
}

describe('OpenTelemetry traces', () => {
  it("a shopper's read is one server span with the route and status, and its Recharge call's queue wait and upstream call under it", async () => {
    const token = await mintToken()
    // Not cached by an earlier test: this read must reach Recharge.
    const shopper = (await sim.state()).customers.find((customer) => customer.email === EMAIL)
    await app.cache.invalidateTags([`customer:${shopper?.id}`])
    exporter.reset()
    const response = await app.inject({ url: '/v1/subscriptions', headers: { authorization: `Bearer ${token}` } })
    expect(response.statusCode).toBe(200)

    const [inbound] = named('GET /v1/subscriptions')
    expect(inbound?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/v1/subscriptions',
      'http.response.status_code': 200,
    })
    const children = exporter
      .getFinishedSpans()
      .filter((span) => span.parentSpanContext?.spanId === inbound?.spanContext().spanId)
    const upstream = children.filter((span) => span.name.startsWith('GET /subscriptions'))
    expect(upstream.length).toBeGreaterThan(0)
    expect(upstream[0]?.attributes).toMatchObject({
      'recharge.resource': 'subscriptions',
      'http.response.status_code': 200,
    })
    const waits = children.filter((span) => span.name === 'recharge.queue_wait')
    expect(waits.map((span) => span.attributes['recharge.operation'])).toContain('GET /subscriptions')
    expect(waits.every((span) => span.attributes['recharge.lane'] === 'interactive')).toBe(true)
    // Every child belongs to the same trace as the request.
    for (const child of children) expect(child.spanContext().traceId).toBe(inbound?.spanContext().traceId)
  })

  it("a foreign id's 404 is a server span with status 404 and no upstream call", async () => {
    const token = await mintToken()
    exporter.reset()
    const response = await app.inject({
      url: '/v1/subscriptions/999999999',
      headers: { authorization: `Bearer ${token}` },
    })
    expect(response.statusCode).toBe(404)
    const [inbound] = named('GET /v1/subscriptions/:id')
    expect(inbound?.attributes['http.response.status_code']).toBe(404)
    expect(inbound?.attributes['http.route']).toBe('/v1/subscriptions/:id')
    const calls = exporter.getFinishedSpans().filter((span) => span.name.startsWith('GET /subscriptions/'))
    expect(calls).toEqual([])
  })

  it("continues the caller's W3C trace", async () => {
    await mintToken({ traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` })
    const [inbound] = named('POST /v1/admin/customer-tokens')
    expect(inbound?.spanContext().traceId).toBe(TRACE_ID)
    expect(inbound?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7')
  })

  it('never records a token, a key or an email in a span name or attribute', async () => {
    const token = await mintToken()
    await app.inject({ url: '/v1/subscriptions', headers: { authorization: `Bearer ${token}` } })
    await app.inject({
      url: `/v1/admin/customers?email=${encodeURIComponent(EMAIL)}`,
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    })
    const spans = exporter.getFinishedSpans()
    // The email lookups reached Recharge: the spans exist, and say only which operation ran.
    expect(spans.some((span) => span.attributes['recharge.resource'] === 'customers')).toBe(true)
    const recorded = JSON.stringify(
      spans.map((span) => ({ name: span.name, attributes: span.attributes, events: span.events })),
    )
    for (const secret of [token, ADMIN_KEY, sim.apiToken, EMAIL, encodeURIComponent(EMAIL), 'alice']) {
      expect(recorded).not.toContain(secret)
    }
  })
})

describe('the OTLP exporter', () => {
  it('with OTEL_EXPORTER_OTLP_ENDPOINT posts the spans to <endpoint>/v1/traces (flushed on close)', async () => {
    const received: { path: string | undefined; type: string | undefined; bytes: number }[] = []
    const collector = createServer((request, response) => {
      let bytes = 0
      request.on('data', (chunk: Buffer) => {
        bytes += chunk.length
      })
      request.on('end', () => {
        received.push({ path: request.url, type: request.headers['content-type'], bytes })
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      })
    })
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve))
    const { port } = collector.address() as AddressInfo
    const traced = await buildApp(
      testConfig({
        RECHARGE_API_URL: sim.url,
        RECHARGE_API_TOKEN: sim.apiToken,
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      }),
      { redis: null, backgroundWorkers: false },
    )
    try {
      await traced.ready()
      expect((await traced.inject({ url: '/healthz' })).statusCode).toBe(200)
    } finally {
      await traced.close()
      collector.close()
    }
    expect(received.length).toBeGreaterThan(0)
    expect(received[0]?.path).toBe('/v1/traces')
    expect(received[0]?.bytes).toBeGreaterThan(0)
  })
})
