import { createConnection } from 'node:net'
import type { TestProject } from 'vitest/node'
import { DisposableRedisCluster } from '../../tools/redis-cluster.ts'
import { DisposableRedisSentinel } from '../../tools/redis-sentinel.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string
  }
}

/** True when something answers PING at host:port within a short time. */
function redisAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')))
  })
}

/**
 * Redis for the whole run. REDIS_TOPOLOGY=cluster starts a 3-primary, 3-replica cluster on loopback and
 * REDIS_TOPOLOGY=sentinel a primary, a replica and three sentinels (tools/), for this run only (npm run
 * test:redis-topologies). Otherwise: REDIS_URL when set, else a local server on 127.0.0.1:6379 when it answers, else a
 * testcontainers Redis when a Docker engine exists, else one clear failure. Tests never FLUSHALL: each file uses its
 * own key prefix (test/support/redis.ts).
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const topology = process.env.REDIS_TOPOLOGY
  if (topology === 'cluster') {
    const cluster = await DisposableRedisCluster.start()
    project.provide('redisUrl', cluster.url)
    return () => cluster.stop()
  }
  if (topology === 'sentinel') {
    const sentinel = await DisposableRedisSentinel.start()
    // Test-only spelling of a Sentinel set-up (test/support/redis-url.ts).
    project.provide('redisUrl', `redis+sentinel://${sentinel.sentinelList}/${sentinel.name}`)
    return () => sentinel.stop()
  }
  if (topology && topology !== 'single') {
    throw new Error(`REDIS_TOPOLOGY=${topology}: use single, cluster or sentinel`)
  }
  if (process.env.REDIS_URL) {
    project.provide('redisUrl', process.env.REDIS_URL)
    return undefined
  }
  if (await redisAnswers('127.0.0.1', 6379)) {
    project.provide('redisUrl', 'redis://127.0.0.1:6379')
    return undefined
  }
  try {
    const { GenericContainer } = await import('testcontainers')
    const container = await new GenericContainer('redis:7-alpine').withExposedPorts(6379).start()
    project.provide('redisUrl', `redis://${container.getHost()}:${container.getMappedPort(6379)}`)
    return async () => {
      await container.stop()
    }
  } catch (error) {
    throw new Error(
      `No Redis for the tests: REDIS_URL is unset, nothing answers on 127.0.0.1:6379 and testcontainers could not start one (${(error as Error).message.split('\n')[0]}). Start redis-server or set REDIS_URL.`,
    )
  }
}
