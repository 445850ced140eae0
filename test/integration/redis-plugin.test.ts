import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { testConfig } from '../support/config.ts'
import { redisUrl } from '../support/redis.ts'

async function unusedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return typeof address === 'object' && address ? address.port : 0
}

const upstream = { RECHARGE_API_TOKEN: 'test-token', RECHARGE_API_URL: 'http://127.0.0.1:9' }

describe('redis plugin', () => {
  it('reports ready when Redis answers, and closes the client it opened', async () => {
    const app = await buildApp(testConfig({ ...upstream, REDIS_URL: redisUrl() }), { backgroundWorkers: false })
    const response = await app.inject({ url: '/readyz' })
    expect(response.statusCode).toBe(200)
    expect(response.json().checks.redis).toEqual({ ok: true })
    const client = app.redis
    await app.close()
    expect(client?.isOpen).toBe(false)
  })

  it('starts degraded, answers and reports not-ready when Redis is unreachable', async () => {
    const port = await unusedPort()
    const app = await buildApp(testConfig({ ...upstream, REDIS_URL: `redis://127.0.0.1:${port}` }), {
      backgroundWorkers: false,
    })
    const health = await app.inject({ url: '/healthz' })
    expect(health.statusCode).toBe(200)
    const ready = await app.inject({ url: '/readyz' })
    expect(ready.statusCode).toBe(503)
    expect(ready.json().checks.redis.ok).toBe(false)
    await app.close()
  })

  it('reports not-ready once shutdown begins', async () => {
    const app = await buildApp(testConfig(upstream), { redis: null, backgroundWorkers: false })
    await app.ready()
    app.readiness.shuttingDown = true
    const response = await app.inject({ url: '/readyz' })
    expect(response.statusCode).toBe(503)
    expect(response.json().checks.shutdown).toEqual({ ok: false, detail: 'shutting down' })
    await app.close()
  })
})
