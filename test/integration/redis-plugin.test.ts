import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { createRedisClient, RedisDeadlineError, withReplyDeadline } from '../../src/infra/redis.ts'
import { DisposableRedis } from '../../tools/redis-server.ts'
import { testConfig } from '../support/config.ts'
import { connectRedis, deleteKeys, redisUrl, uniquePrefix } from '../support/redis.ts'

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

describe('the reply-deadline wrapper', () => {
  it('runs MULTI, pipelines, scripts, scan iterators and pub/sub on a duplicate', async () => {
    const raw = await connectRedis()
    const client = withReplyDeadline(raw)
    const prefix = `${uniquePrefix('redis-wrapper')}:`
    try {
      const counted = await client.multi().incr(`${prefix}n`).pExpire(`${prefix}n`, 10_000).exec()
      expect(counted).toEqual([1, 1])
      const piped = await client.multi().incr(`${prefix}n`).get(`${prefix}n`).execAsPipeline()
      expect(piped).toEqual([2, '2'])
      expect(await client.eval('return redis.call("INCR", KEYS[1])', { keys: [`${prefix}n`] })).toBe(3)
      expect(await client.MULTI().GET(`${prefix}n`).exec()).toEqual(['3'])
      const seen: string[] = []
      for await (const keys of client.scanIterator({ MATCH: `${prefix}*` })) seen.push(...keys)
      expect(seen).toEqual([`${prefix}n`])
      // Chained event-emitter calls stay on the wrapper.
      expect(client.on('error', () => {})).toBe(client)

      const subscriber = client.duplicate()
      subscriber.on('error', () => {})
      await subscriber.connect()
      const received = new Promise<string>((resolve) => {
        void subscriber.subscribe(`${prefix}channel`, (message) => resolve(message))
      })
      await expect.poll(() => client.publish(`${prefix}channel`, 'hello')).toBe(1)
      expect(await received).toBe('hello')
      await subscriber.close()
    } finally {
      await deleteKeys(raw, `${prefix}*`)
      await raw.close()
    }
  })

  it('bounds every call that talks to a frozen Redis, a MULTI and a duplicate included', async () => {
    const server = await DisposableRedis.start()
    const raw = await connectRedisAt(server.url)
    const client = withReplyDeadline(raw, 100)
    const duplicate = client.duplicate()
    duplicate.on('error', () => {})
    await duplicate.connect()
    server.pause()
    try {
      await expect(client.get('k')).rejects.toBeInstanceOf(RedisDeadlineError)
      await expect(client.multi().incr('k').exec()).rejects.toBeInstanceOf(RedisDeadlineError)
      await expect(client.eval('return 1')).rejects.toBeInstanceOf(RedisDeadlineError)
      await expect(duplicate.set('k', 'v')).rejects.toBeInstanceOf(RedisDeadlineError)
    } finally {
      server.resume()
      raw.destroy()
      duplicate.destroy()
      await server.stop()
    }
  })
})

async function connectRedisAt(url: string) {
  const client = createRedisClient(url, 'redis-wrapper-test')
  client.on('error', () => {})
  await client.connect()
  return client
}
