import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { prettyPrinterInstalled } from '../../src/logger.ts'
import { mintCustomerToken, secretKey } from '../../src/shopper/customer-token.ts'
import { testConfig } from '../support/config.ts'

/** An app whose log lines are collected, one parsed object per line. */
async function appWithLogs(overrides: Record<string, string>) {
  const stream = new PassThrough()
  const lines: Record<string, unknown>[] = []
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line))
  })
  const app = await buildApp(
    testConfig({ RECHARGE_API_URL: 'http://127.0.0.1:9', RECHARGE_API_TOKEN: 'sk_test_logging', ...overrides }),
    {
      redis: null,
      backgroundWorkers: false,
      logStream: stream,
    },
  )
  return { app, linesOf: (requestId: string) => lines.filter((line) => line.reqId === requestId) }
}

describe('request logging', () => {
  it('logs request ids but never credentials from headers or token query parameters', async () => {
    const stream = new PassThrough()
    let logs = ''
    stream.on('data', (chunk: Buffer) => {
      logs += chunk.toString()
    })
    const app = await buildApp(
      testConfig({
        LOG_LEVEL: 'trace',
        RECHARGE_API_TOKEN: 'sk_live_never_logged',
        RECHARGE_API_URL: 'http://127.0.0.1:9',
      }),
      { redis: null, backgroundWorkers: false, logStream: stream },
    )
    const response = await app.inject({
      url: '/v1/portal/redirect?token=single-use-secret-123&x=1',
      headers: {
        authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.customer.token',
        cookie: 'session=cookie-secret',
        'x-request-id': 'trace-abcdef-0001',
      },
    })
    await app.close()
    expect(response.headers['x-request-id']).toBe('trace-abcdef-0001')
    expect(logs).toContain('trace-abcdef-0001')
    expect(logs).toContain('token=[redacted]')
    for (const secret of ['single-use-secret-123', 'customer.token', 'cookie-secret', 'sk_live_never_logged']) {
      expect(logs).not.toContain(secret)
    }
  })
})

describe('request loggers', () => {
  it("write a request's lines with its id at the levels enabled, and nothing below them", async () => {
    const { app, linesOf } = await appWithLogs({ LOG_LEVEL: 'warn' })
    const { token } = await mintCustomerToken(
      { kind: 'email', email: 'shopper@example.com' },
      secretKey(testConfig().CUSTOMER_TOKEN_SECRET),
    )
    // Recharge unreachable: a 5xx, logged at warn with the request's id.
    const failed = await app.inject({
      url: '/v1/portal/url',
      headers: { authorization: `Bearer ${token}`, 'x-request-id': 'upstream-down-0001' },
    })
    // An unknown route: a 4xx, logged at info, below the level.
    const missing = await app.inject({ url: '/v1/nothing-here', headers: { 'x-request-id': 'not-found-0001' } })
    await app.close()
    expect(failed.statusCode).toBeGreaterThanOrEqual(500)
    expect(linesOf('upstream-down-0001')).toEqual([
      expect.objectContaining({ level: 40, msg: 'request failed', code: failed.json().code }),
    ])
    expect(missing.statusCode).toBe(404)
    expect(linesOf('not-found-0001')).toEqual([])
  })

  it("follow a route's own log level over the server's", async () => {
    const { app, linesOf } = await appWithLogs({ LOG_LEVEL: 'trace' })
    await app.inject({ url: '/v1/nothing-here', headers: { 'x-request-id': 'not-found-0002' } })
    // GET /metrics logs at warn only: scrapes every few seconds would otherwise fill the log.
    await app.inject({ url: '/metrics', headers: { 'x-request-id': 'metrics-scrape-0001' } })
    await app.close()
    expect(linesOf('not-found-0002').map((line) => line.msg)).toEqual(['incoming request', 'request completed'])
    expect(linesOf('metrics-scrape-0001')).toEqual([])
  })
})

describe('pretty printing on a terminal', () => {
  it('is used only where pino-pretty (a dev dependency) resolves, so a production install on a TTY logs JSON', () => {
    expect(prettyPrinterInstalled()).toBe(true)
    const productionInstall = (id: string): string => {
      throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' })
    }
    expect(prettyPrinterInstalled(productionInstall)).toBe(false)
  })
})
