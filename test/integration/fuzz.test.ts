import fc from 'fast-check'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { testConfig } from '../support/config.ts'
import { redisUrl } from '../support/redis.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * Bad input on every route of the OpenAPI document: malformed JSON, huge strings, unicode, wrong types,
 * prototype-pollution keys, random headers. Whatever arrives, the answer is a 2xx/3xx or a 4xx problem+json —
 * never a 5xx, never a hang — and Object.prototype is untouched.
 */
const adminKey = 'test-admin-key-0123456789abcdef'
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 30)
const run = Math.random().toString(36).slice(2, 10)

let sim: TestSimulator
let app: FastifyInstance
let shopperToken: string

interface Operation {
  method: string
  path: string
}

function operations(document: { paths: Record<string, Record<string, unknown>> }): Operation[] {
  const result: Operation[] = []
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of Object.keys(item)) {
      if (['get', 'post', 'put', 'patch', 'delete'].includes(method))
        result.push({ method: method.toUpperCase(), path })
    }
  }
  return result
}

const nasty = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', '', ' ', '../../etc/passwd', '%00', '\u0000', '🙂', 'null'),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ minLength: 1000, maxLength: 5000 }),
  fc.integer().map(String),
  fc.constantFrom('-1', '0', '1e309', 'NaN', '9007199254740993', '219400001', '7100000001'),
)

const pollutingObject = fc.constantFrom(
  '{"__proto__": {"polluted": true}}',
  '{"constructor": {"prototype": {"polluted": true}}}',
  '{"lines": [{"__proto__": {"polluted": true}}]}',
)

const body = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
  fc.dictionary(nasty, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 }).map((value) => JSON.stringify(value)),
  pollutingObject,
  fc.constantFrom(
    '{"a":',
    '{',
    '[1,2',
    'not json',
    '""',
    'null',
    '{"lines": "x"}',
    `{"email": "${'a'.repeat(2000)}@x.io"}`,
  ),
  fc.string({ maxLength: 200 }),
)

const query = fc.dictionary(
  fc.constantFrom('limit', 'cursor', 'email', 'token', 'status', 'id', '__proto__', 'x'),
  nasty,
  { maxKeys: 4 },
)

const credential = fc.constantFrom('shopper', 'admin', 'none', 'garbage') as fc.Arbitrary<
  'shopper' | 'admin' | 'none' | 'garbage'
>

function headersFor(kind: 'shopper' | 'admin' | 'none' | 'garbage'): Record<string, string> {
  switch (kind) {
    case 'shopper':
      return { authorization: `Bearer ${shopperToken}` }
    case 'admin':
      return { authorization: `Bearer ${adminKey}` }
    case 'garbage':
      return { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZUBleGFtcGxlLmNvbSJ9.' }
    case 'none':
      return {}
  }
}

describe.each(['in-process', 'redis'] as const)('bad input with %s state', (backend) => {
  beforeAll(async () => {
    sim = await startTestSimulator({ apiTokens: ['sk_test_fuzz'], bucketSize: 100_000, leakRate: 100_000 })
    app = await buildApp(
      testConfig({
        RECHARGE_API_URL: sim.url,
        RECHARGE_API_TOKEN: sim.apiToken,
        RECHARGE_BUCKET_SIZE: '100000',
        RECHARGE_LEAK_RATE: '100000',
        RECHARGE_WEBHOOK_SECRET: sim.clientSecret,
        RECHARGE_STORE_SUBDOMAIN: sim.storeSubdomain,
        ADMIN_API_KEY: adminKey,
        CHECKOUT_RATE_LIMIT_PER_MINUTE: '100000',
        ...(backend === 'redis' ? { REDIS_URL: redisUrl(), REDIS_KEY_PREFIX: `test-fuzz-${run}` } : {}),
      }),
      backend === 'redis' ? { backgroundWorkers: false } : { redis: null, backgroundWorkers: false },
    )
    await app.ready()
    const minted = await app.inject({
      method: 'POST',
      url: '/v1/admin/customer-tokens',
      headers: { authorization: `Bearer ${adminKey}` },
      payload: { email: 'alice@example.com' },
    })
    shopperToken = minted.json().token
  })

  afterAll(async () => {
    await app?.close()
    await sim?.close()
  })

  describe('every route', () => {
    it('finds the routes in the OpenAPI document', () => {
      expect(operations(app.swagger() as never).length).toBeGreaterThan(20)
    })

    it('answers every mangled request with a success or a 4xx problem+json, never a 5xx', async () => {
      const failures: string[] = []
      for (const operation of operations(app.swagger() as never)) {
        await fc
          .assert(
            fc.asyncProperty(
              fc.array(nasty, { minLength: 3, maxLength: 3 }),
              query,
              body,
              credential,
              fc.option(nasty, { nil: undefined }),
              async (params, search, payload, kind, idempotencyKey) => {
                let index = 0
                const url = operation.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(params[index++] ?? 'x'))
                const options: InjectOptions = {
                  method: operation.method as InjectOptions['method'],
                  url,
                  query: search,
                  headers: {
                    ...headersFor(kind),
                    ...(idempotencyKey !== undefined ? { 'idempotency-key': idempotencyKey.slice(0, 300) } : {}),
                    ...(operation.method === 'GET' || operation.method === 'DELETE'
                      ? {}
                      : { 'content-type': 'application/json' }),
                  },
                  ...(operation.method === 'GET' || operation.method === 'DELETE' ? {} : { payload }),
                }
                const response = await app.inject(options)
                const ok = response.statusCode < 500
                const problem =
                  response.statusCode < 400 ||
                  /^application\/problem\+json/.test(String(response.headers['content-type']))
                if (
                  (!ok || !problem) &&
                  !failures.some((line) => line.startsWith(`${operation.method} ${operation.path} `))
                ) {
                  failures.push(
                    `${operation.method} ${operation.path} ← ${url.slice(0, 120)} → ${response.statusCode} ${response.body.slice(0, 200)}`,
                  )
                }
                return ok && problem
              },
            ),
            { numRuns: RUNS_PER_ROUTE, interruptAfterTimeLimit: 60_000, endOnFailure: true },
          )
          .catch((error: unknown) => {
            // A property that returned false is already in `failures`; anything else (a throw, a hang) is recorded here.
            const message = error instanceof Error ? error.message.split('\n')[0] : String(error)
            if (!failures.some((line) => line.startsWith(`${operation.method} ${operation.path} `))) {
              failures.push(`${operation.method} ${operation.path} threw: ${message}`)
            }
          })
      }
      expect(failures).toEqual([])
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      expect(Object.keys(Object.prototype)).toEqual([])
    }, 600_000)
  })
})
