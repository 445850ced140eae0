import { PassThrough } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { Agent } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { RechargeNotFoundError } from '../../src/recharge/errors.ts'
import { testConfig } from '../support/config.ts'
import { connectRedis, deleteKeys, redisUrl } from '../support/redis.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/** `app.recharge` as the plugin assembles it: credentials, metrics, logs, readiness, shutdown. */
const TOKEN = 'sk_test_plugin_secret_value'
let sim: TestSimulator
let url: string
const logs: string[] = []

async function appWith(deps: Parameters<typeof buildApp>[1] = {}): Promise<FastifyInstance> {
  const stream = new PassThrough()
  stream.on('data', (chunk: Buffer) => logs.push(...chunk.toString('utf8').split('\n').filter(Boolean)))
  const app = await buildApp(
    testConfig({ RECHARGE_API_TOKEN: TOKEN, RECHARGE_API_URL: url, LOG_LEVEL: 'debug', REDIS_URL: redisUrl() }),
    { backgroundWorkers: false, logStream: stream, ...deps },
  )
  await app.ready()
  return app
}

beforeAll(async () => {
  sim = await startTestSimulator({ apiTokens: [TOKEN], bucketSize: 40, leakRate: 20, webhookAutoDeliver: false })
  url = sim.url
})

afterAll(async () => {
  await sim.close()
  const redis = await connectRedis()
  // The app's keys are named by the token's fingerprint under the default `rb` prefix.
  const { tokenFingerprint } = await import('../../src/recharge/fingerprint.ts')
  await deleteKeys(redis, `rb:{${tokenFingerprint(TOKEN)}}*`)
  await redis.close()
})

describe('recharge plugin', () => {
  it('serves typed calls, exports metrics by path template, and never logs or exposes the token', async () => {
    const app = await appWith()
    const store = await app.recharge.store.get()
    expect(store.currency).toBeTruthy()
    const missing = await app.recharge.customers.get('999999999').catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(RechargeNotFoundError)

    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
    expect(metrics).toMatch(
      /recharge_bridge_recharge_upstream_responses_total\{operation="GET \/store",status="200"\} 1/,
    )
    expect(metrics).toMatch(
      /recharge_bridge_recharge_upstream_responses_total\{operation="GET \/customers\/:id",status="404"\} 1/,
    )
    expect(metrics).toMatch(/recharge_bridge_recharge_queue_wait_seconds_count\{lane="interactive"\} 2/)
    expect(metrics).toMatch(/recharge_bridge_recharge_limiter_degraded 0/)
    // Ids never become label values (metric values may contain any digits, so only labels are searched).
    const labels = metrics.match(/\{[^}]*\}/g) ?? []
    expect(labels.some((label) => label.includes('999999999'))).toBe(false)

    const ready = (await app.inject({ method: 'GET', url: '/readyz' })).json()
    expect(ready.checks['recharge-queue'].ok).toBe(true)
    await app.close()

    const upstreamLines = logs.filter((line) => line.includes('"upstream"'))
    expect(upstreamLines.length).toBeGreaterThanOrEqual(2)
    expect(upstreamLines.some((line) => line.includes('"pathTemplate":"/customers/:id"'))).toBe(true)
    expect(logs.join('\n')).not.toContain(TOKEN)
    expect(JSON.stringify(missing)).not.toContain(TOKEN)
    expect(String((missing as Error).stack)).not.toContain(TOKEN)
  })

  it('runs without Redis on an in-process book', async () => {
    const app = await appWith({ redis: null })
    expect(app.redis).toBeNull()
    expect((await app.recharge.store.get()).currency).toBeTruthy()
    await app.close()
  })

  it('composes the credentials onto an injected dispatcher', async () => {
    const agent = new Agent({ connections: 2 })
    const app = await appWith({ rechargeDispatcher: agent })
    // The simulator answers 401 without the token: a parsed store proves the header reached it.
    expect((await app.recharge.store.get()).currency).toBeTruthy()
    await app.close()
    await agent.close()
  })

  it('refuses new calls once closing and drains the admitted ones', async () => {
    const app = await appWith()
    const inFlight = app.recharge.store.get()
    await app.close()
    await expect(inFlight).resolves.toBeTruthy()
    await expect(app.recharge.store.get()).rejects.toMatchObject({ name: 'RechargeUnavailableError' })
  })
})
