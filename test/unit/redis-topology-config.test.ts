import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.ts'
import { configSummary } from '../../src/config-summary.ts'

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems]
    throw error
  }
  return []
}

describe('Redis topology settings', () => {
  it('reads a single server, a cluster seed list and Sentinel', () => {
    expect(loadConfig({}).redis).toBeNull()
    expect(loadConfig({ REDIS_URL: 'redis://:pw@127.0.0.1:6380' }).redis).toEqual({
      kind: 'single',
      url: 'redis://:pw@127.0.0.1:6380',
    })
    expect(loadConfig({ REDIS_URL: 'rediss+cluster://app:s%40cret@10.0.0.1:7000,[::1]:7001/' }).redis).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '::1', port: 7001 },
      ],
      username: 'app',
      password: 's@cret',
      tls: true,
    })
    expect(loadConfig({ REDIS_URL: 'redis+cluster://a:7000' }).redis).toMatchObject({ kind: 'cluster', tls: false })
    expect(
      loadConfig({
        REDIS_SENTINELS: 's1:26379, s2:26379',
        REDIS_SENTINEL_NAME: 'bridge',
        REDIS_SENTINEL_PASSWORD: 'sentinel-pw',
        REDIS_PASSWORD: 'data-pw',
        REDIS_TLS: 'on',
      }).redis,
    ).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      name: 'bridge',
      password: 'data-pw',
      sentinelPassword: 'sentinel-pw',
      tls: true,
    })
  })

  it('refuses settings that cannot be meant, one clear line each', () => {
    expect(problems({ REDIS_URL: 'http://127.0.0.1:6379' })).toEqual([
      expect.stringMatching(/^REDIS_URL: must start with redis:\/\//),
    ])
    expect(problems({ REDIS_URL: 'redis+cluster://a:7000,b' })).toEqual(['REDIS_URL: "b" is not host:port'])
    expect(problems({ REDIS_URL: 'redis+cluster://a:99999' })).toEqual(['REDIS_URL: "a:99999" is not host:port'])
    expect(problems({ REDIS_URL: 'redis+cluster://a:7000/2' })).toEqual([
      expect.stringMatching(/^REDIS_URL: a cluster URL has no path/),
    ])
    expect(problems({ REDIS_SENTINELS: 's1:26379' })).toEqual([expect.stringMatching(/^REDIS_SENTINEL_NAME: required/)])
    expect(problems({ REDIS_SENTINELS: 's1', REDIS_SENTINEL_NAME: 'm' })).toEqual([
      'REDIS_SENTINELS: "s1" is not host:port',
    ])
    expect(problems({ REDIS_URL: 'redis://a:1', REDIS_SENTINELS: 's1:1', REDIS_SENTINEL_NAME: 'm' })).toEqual([
      expect.stringMatching(/^REDIS_SENTINELS: set either REDIS_URL or REDIS_SENTINELS/),
    ])
    expect(problems({ REDIS_URL: 'redis://a:1', REDIS_PASSWORD: 'x' })).toEqual([
      expect.stringMatching(/^REDIS_PASSWORD: only used with REDIS_SENTINELS; with REDIS_URL put the password/),
    ])
    expect(problems({ REDIS_TLS: 'yes', REDIS_SENTINELS: 's:1', REDIS_SENTINEL_NAME: 'm' })).toEqual([
      expect.stringMatching(/^REDIS_TLS:/),
    ])
  })

  it('lets the mirror run on Sentinel and still refuses it without any Redis', () => {
    expect(loadConfig({ MIRROR: 'on', REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'm' }).redis?.kind).toBe(
      'sentinel',
    )
    expect(problems({ MIRROR: 'on' })).toEqual([
      expect.stringMatching(/^MIRROR: on needs REDIS_URL or REDIS_SENTINELS/),
    ])
  })

  it('never logs a password of any topology', () => {
    const cluster = configSummary(loadConfig({ REDIS_URL: 'redis+cluster://:topsecret@a:7000,b:7001' }))
    expect(cluster.REDIS_URL).toBe('redis+cluster://a:7000,b:7001')
    const sentinel = configSummary(
      loadConfig({
        REDIS_SENTINELS: 's:26379',
        REDIS_SENTINEL_NAME: 'm',
        REDIS_PASSWORD: 'topsecret',
        REDIS_SENTINEL_PASSWORD: 'topsecret',
      }),
    )
    expect(JSON.stringify(sentinel)).not.toContain('topsecret')
  })
})
