import { parseRedisTopology, type RedisTopology } from '../../src/infra/redis-topology.ts'

/**
 * The tests pass their Redis around as one string (vitest's provide/inject, `REDIS_URL: redisUrl()` in a test
 * config). A Sentinel set-up has no URL in the bridge's settings, so the tests write it as
 * `redis+sentinel://host:port,host:port/<name>` and translate it here. Test-only: the bridge reads REDIS_SENTINELS.
 */
export function sentinelEnvFromTestUrl(url: string): Record<string, string> | null {
  const match = /^redis\+sentinel:\/\/([^/]+)\/(.+)$/.exec(url)
  if (!match?.[1] || !match[2]) return null
  return { REDIS_SENTINELS: match[1], REDIS_SENTINEL_NAME: match[2] }
}

export function redisTopologyFromTestUrl(url: string): RedisTopology {
  const sentinel = sentinelEnvFromTestUrl(url)
  const parsed = parseRedisTopology(sentinel ?? { REDIS_URL: url })
  if (!parsed.topology) throw new Error(`not a Redis the tests can use: ${url} (${parsed.problems.join('; ')})`)
  return parsed.topology
}
