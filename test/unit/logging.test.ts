import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { testConfig } from '../support/config.ts'

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
