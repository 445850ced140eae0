import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.ts'

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems]
    throw error
  }
  return []
}

const cluster = { REDIS_URL: 'redis+cluster://127.0.0.1:7000,127.0.0.1:7001' }
const sentinel = { REDIS_SENTINELS: '127.0.0.1:26379', REDIS_SENTINEL_NAME: 'bridge' }
const single = { REDIS_URL: 'redis://127.0.0.1:6380' }

describe('idempotency replication settings (REDIS_IDEMPOTENCY_REPLICAS, REDIS_IDEMPOTENCY_WAIT_MS)', () => {
  it('waits for one replica by default on a cluster or Sentinel, for none on one Redis or without Redis', () => {
    expect(loadConfig(cluster).idempotencyReplicas).toBe(1)
    expect(loadConfig(sentinel).idempotencyReplicas).toBe(1)
    expect(loadConfig(single).idempotencyReplicas).toBe(0)
    expect(loadConfig({}).idempotencyReplicas).toBe(0)
    expect(loadConfig(cluster).REDIS_IDEMPOTENCY_WAIT_MS).toBe(250)
  })

  it('takes the setting on a replicated topology, 0 turning the wait off, and ignores it on one Redis', () => {
    expect(loadConfig({ ...cluster, REDIS_IDEMPOTENCY_REPLICAS: '2' }).idempotencyReplicas).toBe(2)
    expect(loadConfig({ ...sentinel, REDIS_IDEMPOTENCY_REPLICAS: '0' }).idempotencyReplicas).toBe(0)
    expect(loadConfig({ ...single, REDIS_IDEMPOTENCY_REPLICAS: '2' }).idempotencyReplicas).toBe(0)
    expect(loadConfig({ ...sentinel, REDIS_IDEMPOTENCY_WAIT_MS: '500' }).REDIS_IDEMPOTENCY_WAIT_MS).toBe(500)
  })

  it('refuses a count or a wait out of range, each with its variable named', () => {
    for (const value of ['-1', '6', '1.5', 'one']) {
      expect(problems({ ...cluster, REDIS_IDEMPOTENCY_REPLICAS: value })).toEqual([
        expect.stringMatching(/^REDIS_IDEMPOTENCY_REPLICAS: /),
      ])
    }
    // Beyond 1 s the wait would outlast the store's own reply deadline (1.5 s) and read as Redis being down.
    for (const value of ['0', '9', '1001', 'soon']) {
      expect(problems({ ...cluster, REDIS_IDEMPOTENCY_WAIT_MS: value })).toEqual([
        expect.stringMatching(/^REDIS_IDEMPOTENCY_WAIT_MS: /),
      ])
    }
  })
})
