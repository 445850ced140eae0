import { describe, expect, it } from 'vitest'
import { ConfigError, isPrivateHost, loadConfig } from '../../src/config.ts'
import { configSummary } from '../../src/config-summary.ts'

/** Everything production needs except what a test case leaves out or overrides. */
const production = {
  NODE_ENV: 'production',
  RECHARGE_API_TOKEN: 'sk_live_production_token_value',
  CUSTOMER_TOKEN_SECRET: 'production-customer-token-secret-0123456789',
  ADMIN_API_KEY: 'production-admin-key-0123456789',
  CORS_ORIGINS: 'https://shop.example',
  PUBLIC_URL: 'https://bridge.shop.example',
}

function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env)
    return []
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    return [...error.problems]
  }
}

describe('production refusals', () => {
  it('starts with every required setting and a public PUBLIC_URL', () => {
    expect(problems(production)).toEqual([])
  })

  it('refuses to start without PUBLIC_URL, on one line naming it', () => {
    const lines = problems({ ...production, PUBLIC_URL: undefined })
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^PUBLIC_URL: required when NODE_ENV=production/)
  })

  it('names PUBLIC_URL beside the missing secrets, one line each', () => {
    const lines = problems({ NODE_ENV: 'production' })
    expect(lines.map((line) => line.split(':')[0])).toEqual([
      'RECHARGE_API_TOKEN',
      'CUSTOMER_TOKEN_SECRET',
      'ADMIN_API_KEY',
      'CORS_ORIGINS',
      'PUBLIC_URL',
    ])
  })

  it.each([
    'http://localhost:3000',
    'http://127.0.0.1:3000',
    'http://[::1]:3000',
    'http://10.1.2.3',
    'http://192.168.1.20:3000',
    'http://172.20.0.5',
    'http://bridge:3000',
    'http://bridge.internal',
  ])('refuses a loopback or private PUBLIC_URL (%s) while Recharge is its public API', (url) => {
    const lines = problems({ ...production, PUBLIC_URL: url })
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(
      /^PUBLIC_URL: .* loopback or private address, which api\.rechargeapps\.com can never reach/,
    )
  })

  it.each([
    ['http://127.0.0.1:4010', 'http://127.0.0.1:3000'],
    ['http://localhost:4010', 'http://localhost:3000'],
    ['http://simulator:4010', 'http://localhost:3000'],
    ['http://10.0.0.7:4010', 'http://10.0.0.8:3000'],
  ])('accepts a loopback or private PUBLIC_URL when Recharge is a local simulator (%s)', (api, url) => {
    expect(problems({ ...production, RECHARGE_API_URL: api, PUBLIC_URL: url })).toEqual([])
  })

  it('outside production keeps the localhost default', () => {
    expect(loadConfig({ RECHARGE_API_TOKEN: 'sk', PORT: '3100' }).PUBLIC_URL).toBe('http://localhost:3100')
  })
})

describe('isPrivateHost', () => {
  it.each([
    ['https://bridge.example.com', false],
    ['https://api.rechargeapps.com', false],
    ['http://8.8.8.8', false],
    ['http://[2001:4860::8888]', false],
    ['http://[::ffff:127.0.0.1]', true],
    ['http://[fd00::1]', true],
    ['http://169.254.169.254', true],
    ['http://LOCALHOST', true],
    ['http://my.local', true],
  ])('%s → %s', (url, expected) => {
    expect(isPrivateHost(url)).toBe(expected)
  })
})

describe('the effective-configuration summary', () => {
  it('names every secret as set and contains no secret value, nor a password in a URL', () => {
    const secrets = {
      RECHARGE_API_TOKEN: 'sk_live_summary_token_value',
      RECHARGE_WEBHOOK_SECRET: 'summary-webhook-client-secret',
      CUSTOMER_TOKEN_SECRET: 'summary-customer-token-secret-0123456789',
      ADMIN_API_KEY: 'summary-admin-key-0123456789',
      WEBHOOK_FORWARD_SECRET: 'summary-forward-secret-0123',
      METRICS_TOKEN: 'summary-metrics-token-0123456789',
    }
    const config = loadConfig({
      ...production,
      ...secrets,
      REDIS_URL: 'redis://default:summary-redis-password@redis.internal:6379/0',
      WEBHOOK_FORWARD_URL: 'https://hooks.shop.example/in?key=summary-query-key',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel-user:summary-otel-password@collector.example:4318',
    })
    const summary = configSummary(config)
    const line = JSON.stringify(summary)
    for (const value of [
      ...Object.values(secrets),
      'summary-redis-password',
      'summary-query-key',
      'summary-otel-password',
    ]) {
      expect(line).not.toContain(value)
    }
    for (const key of Object.keys(secrets)) expect(summary[key]).toBe('set')
    expect(summary).toMatchObject({
      mode: 'recharge',
      NODE_ENV: 'production',
      REDIS_URL: 'redis://redis.internal:6379/0',
      PUBLIC_URL: 'https://bridge.shop.example',
      CORS_ORIGINS: ['https://shop.example'],
    })
  })
})
