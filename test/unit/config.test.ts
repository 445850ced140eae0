import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ConfigError, envKeys, loadConfig } from '../../src/config.ts'

describe('configuration', () => {
  it('.env.example lists exactly the keys of the env schema', () => {
    const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')
    const keys = example
      .split('\n')
      .map((line) => /^([A-Z0-9_]+)=/.exec(line)?.[1])
      .filter((key): key is string => Boolean(key))
    expect(keys.sort()).toEqual([...envKeys].sort())
  })

  it('keeps the account mirror off by default; auto turns it on only with a Redis and a PUBLIC_URL outside demo mode', () => {
    const store = { RECHARGE_API_TOKEN: 'sk_test', PUBLIC_URL: 'https://bridge.example' }
    expect(loadConfig({ ...store, REDIS_URL: 'redis://127.0.0.1:6379' }).MIRROR).toBe('off')
    const auto = { ...store, MIRROR: 'auto' }
    expect(loadConfig({ ...auto, REDIS_URL: 'redis://127.0.0.1:6379' }).MIRROR).toBe('on')
    // No Redis to hold it, no PUBLIC_URL for its webhooks, or the demo's in-process store: off.
    expect(loadConfig(auto).MIRROR).toBe('off')
    expect(loadConfig({ ...auto, PUBLIC_URL: undefined, REDIS_URL: 'redis://127.0.0.1:6379' }).MIRROR).toBe('off')
    expect(
      loadConfig({ MIRROR: 'auto', PUBLIC_URL: 'https://bridge.example', REDIS_URL: 'redis://127.0.0.1:6379' }).MIRROR,
    ).toBe('off')
  })

  it('refuses MIRROR=on without REDIS_URL', () => {
    expect(loadConfig({}).MIRROR).toBe('off')
    expect(loadConfig({}).MIRROR_RECONCILE_SECONDS).toBe(300)
    expect(() => loadConfig({ MIRROR: 'on' })).toThrow(/MIRROR: on needs REDIS_URL/)
    const on = loadConfig({ MIRROR: 'on', REDIS_URL: 'redis://127.0.0.1:6379', MIRROR_RECONCILE_SECONDS: '60' })
    expect(on.MIRROR).toBe('on')
    expect(on.MIRROR_RECONCILE_SECONDS).toBe(60)
    expect(() => loadConfig({ MIRROR: 'yes' })).toThrow(/MIRROR/)
  })

  it('runs in demo mode with no environment at all', () => {
    const config = loadConfig({})
    expect(config.demoMode).toBe(true)
    expect(config.PORT).toBe(3000)
    expect(config.RECHARGE_BUCKET_SIZE).toBe(40)
    expect(config.RECHARGE_LEAK_RATE).toBe(2)
    expect(config.CUSTOMER_TOKEN_SECRET.length).toBeGreaterThanOrEqual(32)
    expect(config.ADMIN_API_KEY).toMatch(/^demo_/)
    expect(config.CORS_ORIGINS).toEqual(['http://localhost:3000'])
  })

  it('refuses to start in production with one line per missing variable', () => {
    const error = (() => {
      try {
        loadConfig({ NODE_ENV: 'production' })
      } catch (caught) {
        return caught
      }
    })()
    expect(error).toBeInstanceOf(ConfigError)
    const lines = (error as ConfigError).problems
    expect(lines).toHaveLength(5)
    expect(lines.join('\n')).toMatch(/PUBLIC_URL: required when NODE_ENV=production/)
    expect(lines.join('\n')).toMatch(/RECHARGE_API_TOKEN: required when NODE_ENV=production/)
    expect(lines.join('\n')).toMatch(/CORS_ORIGINS: required when NODE_ENV=production/)
    expect(lines.join('\n')).toMatch(/CUSTOMER_TOKEN_SECRET: required/)
    expect(lines.join('\n')).toMatch(/ADMIN_API_KEY: required/)
  })

  it('reports every invalid variable, not only the first', () => {
    expect(() => loadConfig({ PORT: 'eighty', REDIS_URL: 'http://nope', CORS_ORIGINS: '*' })).toThrow(
      expect.objectContaining({
        problems: expect.arrayContaining([
          expect.stringMatching(/^PORT:/),
          expect.stringMatching(/^REDIS_URL:/),
          expect.stringMatching(/^CORS_ORIGINS:/),
        ]),
      }),
    )
  })

  it('treats empty variables as unset, so a copied .env.example starts in demo mode', () => {
    const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')
    const env = Object.fromEntries(
      example
        .split('\n')
        .filter((line) => /^[A-Z0-9_]+=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    )
    const config = loadConfig(env)
    expect(config.demoMode).toBe(true)
  })

  it('never keeps a wildcard CORS origin and parses an allow-list', () => {
    const config = loadConfig({ CORS_ORIGINS: 'https://shop.example, https://www.shop.example' })
    expect(config.CORS_ORIGINS).toEqual(['https://shop.example', 'https://www.shop.example'])
  })

  it('freezes the config', () => {
    const config = loadConfig({})
    expect(Object.isFrozen(config)).toBe(true)
  })
})
