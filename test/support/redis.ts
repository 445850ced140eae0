import { randomBytes } from 'node:crypto'
import { inject } from 'vitest'
import { createRedisClient, type RedisClient } from '../../src/infra/redis.ts'

export function redisUrl(): string {
  return inject('redisUrl')
}

/** A key prefix no other test file (or run) shares, so files run in parallel against one server. */
export function uniquePrefix(name: string): string {
  return `test:${name}:${randomBytes(4).toString('hex')}`
}

/** A connected client; the caller closes it. Also deletes every key under `prefix` when `cleanup` runs. */
export async function connectRedis(): Promise<RedisClient> {
  const client = createRedisClient(redisUrl(), 'recharge-bridge-test')
  client.on('error', () => {})
  await client.connect()
  return client
}

export async function deleteKeys(client: RedisClient, pattern: string): Promise<void> {
  for await (const keys of client.scanIterator({ MATCH: pattern, COUNT: 500 })) {
    if (keys.length > 0) await client.del(keys)
  }
}
