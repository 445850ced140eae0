import { randomBytes } from 'node:crypto'
import { inject } from 'vitest'
import { type RedisClient, withReplyDeadline } from '../../src/infra/redis.ts'
import { createTopologyClient, isClusterClient, type RedisTopology, scanKeys } from '../../src/infra/redis-topology.ts'
import { redisTopologyFromTestUrl } from './redis-url.ts'

/**
 * The run's Redis: `redis://…` (one server), `redis+cluster://…` (a cluster) or `redis+sentinel://…/<name>` (a primary
 * behind Sentinel; test/support/config.ts turns it into REDIS_SENTINELS + REDIS_SENTINEL_NAME). Chosen by
 * test/support/redis-global-setup.ts (REDIS_TOPOLOGY).
 */
export function redisUrl(): string {
  return inject('redisUrl')
}

/** The run's Redis as the app's client factory takes it. */
export function redisTopology(): RedisTopology {
  return redisTopologyFromTestUrl(redisUrl())
}

/** A key prefix no other test file (or run) shares, so files run in parallel against one server. */
export function uniquePrefix(name: string): string {
  return `test:${name}:${randomBytes(4).toString('hex')}`
}

/** A connected client on the run's topology; the caller closes it. */
export async function connectRedis(): Promise<RedisClient> {
  const client = createTopologyClient(redisTopology(), { name: 'recharge-bridge-test' })
  client.on('error', () => {})
  await client.connect()
  return client
}

/** A client with the app's reply deadline, as components get it from the app. */
export async function connectBoundedRedis(): Promise<RedisClient> {
  return withReplyDeadline(await connectRedis())
}

/** Delete every key matching `pattern` (SCAN on every primary of a cluster; one DEL per key, slots differ). */
export async function deleteKeys(client: RedisClient, pattern: string): Promise<void> {
  for await (const keys of scanKeys(client, { MATCH: pattern, COUNT: 500 })) {
    await Promise.all(keys.map((key) => client.del(key)))
  }
}

/** Every key matching `pattern`, on any topology. */
export async function listKeys(client: RedisClient, pattern: string): Promise<string[]> {
  const found: string[] = []
  for await (const keys of scanKeys(client, { MATCH: pattern, COUNT: 500 })) found.push(...keys)
  return found
}

/** The run's topology kind: tests that need one server's URL (a fault proxy in front of it) run on `single` only. */
export function redisTopologyKind(): RedisTopology['kind'] {
  return redisTopology().kind
}

/**
 * How many connections listen on `channel`. PUBSUB NUMSUB counts a node's own subscribers only, so on a cluster every
 * node is asked and the counts are added.
 */
export async function subscriberCount(client: RedisClient, channel: string): Promise<number> {
  if (isClusterClient(client)) {
    const cluster = client as unknown as {
      masters: unknown[]
      replicas: unknown[]
      nodeClient(node: unknown): Promise<RedisClient>
    }
    let total = 0
    for (const node of [...cluster.masters, ...cluster.replicas]) {
      const reply = (await (await cluster.nodeClient(node)).pubSubNumSub(channel)) as Record<string, number>
      total += Number(reply[channel] ?? 0)
    }
    return total
  }
  const reply = (await client.pubSubNumSub(channel)) as Record<string, number>
  return Number(reply[channel] ?? 0)
}
