import { afterEach, describe, expect, it } from 'vitest'
import {
  createRedisClient,
  type RedisClient,
  superviseRedisConnection,
  withReplyDeadline,
} from '../../src/infra/redis.ts'
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.ts'
import { redisUrl, uniquePrefix } from '../support/redis.ts'
import { until } from '../support/until.ts'

/**
 * A connection that lost commands in a black hole is out of step once the network is back: node-redis hands each
 * reply to the oldest command still waiting. The supervisor must replace it, even while busy traffic keeps a PING
 * answered (by a later command's PONG) within its timeout.
 */
const prefix = uniquePrefix('redis-supervision')
const cleanups: (() => Promise<void> | void)[] = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function supervisedClient(): Promise<{ proxy: FaultProxy; client: RedisClient; resets: () => number }> {
  const target = new URL(redisUrl())
  const proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port || 6379) })
  cleanups.push(() => proxy.close())
  const client = createRedisClient(proxy.url('redis'), 'redis-supervision-test')
  client.on('error', () => {})
  await client.connect()
  let resets = 0
  const stop = superviseRedisConnection(client, { onReset: () => resets++ })
  cleanups.push(() => {
    stop()
    client.destroy()
  })
  return { proxy, client, resets: () => resets }
}

describe('Redis connection supervision', () => {
  it('replaces a connection whose replies are out of step after a black hole, under steady traffic', async () => {
    const { proxy, client, resets } = await supervisedClient()
    const bounded = withReplyDeadline(client)
    const key = `${prefix}:value`
    await bounded.set(key, 'ours')

    await proxy.set({ blackhole: true })
    // Three commands vanish: their replies never come, and each later reply goes to the oldest one waiting.
    for (let i = 0; i < 3; i++) await expect(bounded.ping()).rejects.toThrow(/no reply/)
    await proxy.set({})

    // Steady traffic, as a busy replica has (readiness probes, cache reads): each command is answered by a later one's reply.
    await until(async () => {
      await bounded.ping().catch(() => {})
      return resets() > 0
    })
    await until(() => client.isReady)
    expect(await bounded.get(key)).toBe('ours')
    expect(await bounded.echo('in step')).toBe('in step')
    await bounded.del(key)
  })
})
