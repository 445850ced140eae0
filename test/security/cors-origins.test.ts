import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { ConfigError, loadConfig } from '../../src/config.ts'
import { testConfig } from '../support/config.ts'

/**
 * CORS_ORIGINS as an operator writes it: a copied storefront URL with a trailing slash must still let that
 * storefront in; anything that can never match a browser's Origin (a path, a wildcard) stops the server at startup
 * instead of failing every preflight; production never starts with the setting forgotten.
 */

let app: FastifyInstance | undefined

afterEach(async () => {
  await app?.close()
  app = undefined
})

const productionSecrets = {
  NODE_ENV: 'production',
  RECHARGE_API_TOKEN: 'sk_test_cors',
  CUSTOMER_TOKEN_SECRET: 'test-customer-token-secret-0123456789abcdef',
  ADMIN_API_KEY: 'test-admin-key-0123456789abcdef',
  PUBLIC_URL: 'https://bridge.example',
}

function problems(env: Record<string, string | undefined>): readonly string[] {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
  return []
}

describe('CORS_ORIGINS', () => {
  it('with a trailing slash, lets that storefront origin through a preflight on a real server', async () => {
    app = await buildApp(
      testConfig({
        RECHARGE_API_TOKEN: 'sk_test_cors',
        RECHARGE_API_URL: 'http://127.0.0.1:9',
        CORS_ORIGINS: 'https://Shop.Example/, https://www.shop.example:443/',
      }),
      { redis: null, backgroundWorkers: false },
    )
    const base = await app.listen({ port: 0, host: '127.0.0.1' })
    for (const origin of ['https://shop.example', 'https://www.shop.example']) {
      const preflight = await request(`${base}/v1/me/subscriptions`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      })
      await preflight.body.dump()
      expect(preflight.statusCode).toBe(204)
      expect(preflight.headers['access-control-allow-origin']).toBe(origin)
    }
    const foreign = await request(`${base}/v1/me/subscriptions`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    })
    await foreign.body.dump()
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('refuses an entry with a path, a query or a wildcard, one line per entry', () => {
    const lines = problems({ CORS_ORIGINS: 'https://shop.example/app, https://ok.example, *, https://q.example?x=1' })
    expect(lines).toHaveLength(3)
    expect(lines[0]).toMatch(/^CORS_ORIGINS: "https:\/\/shop\.example\/app" has a path/)
    expect(lines.join('\n')).toMatch(/"\*" is a wildcard/)
    expect(lines.join('\n')).toMatch(/"https:\/\/q\.example\?x=1" has a path, query or fragment/)
  })

  it('in production: unset refuses to start, explicitly empty means no browser origin', () => {
    expect(problems(productionSecrets)).toEqual([
      expect.stringMatching(/^CORS_ORIGINS: required when NODE_ENV=production/),
    ])
    expect(loadConfig({ ...productionSecrets, CORS_ORIGINS: '' }).CORS_ORIGINS).toEqual([])
    expect(loadConfig({ ...productionSecrets, CORS_ORIGINS: 'https://shop.example/' }).CORS_ORIGINS).toEqual([
      'https://shop.example',
    ])
  })

  it('the server process exits 78 with the offending entry named', () => {
    const server = fileURLToPath(new URL('../../src/server.ts', import.meta.url))
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', CORS_ORIGINS: 'https://shop.example/app' }
    const result = spawnSync(process.execPath, [server], { env, encoding: 'utf8', timeout: 30_000 })
    expect(result.status).toBe(78)
    expect(`${result.stdout}${result.stderr}`).toMatch(/CORS_ORIGINS: "https:\/\/shop\.example\/app" has a path/)
  })
})
