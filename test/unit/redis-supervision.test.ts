import { describe, expect, it } from 'vitest'
import { type RedisClient, superviseRedisConnection } from '../../src/infra/redis.ts'

/** A stand-in connection whose PING answers with whatever `reply` returns; counts replacements. */
function connection(reply: (message: string) => Promise<string>) {
  const events: string[] = []
  const client = {
    isOpen: true,
    ping: (message: string) => reply(message),
    destroy: () => events.push('destroy'),
    connect: async () => {
      events.push('connect')
    },
  }
  return { client: client as unknown as RedisClient, events }
}

async function ticks(n: number, intervalMs: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, n * intervalMs + 5))
}

describe('Redis connection supervision', () => {
  it('keeps a connection whose PING echoes the probe', async () => {
    const { client, events } = connection(async (message) => message)
    const stop = superviseRedisConnection(client, { intervalMs: 10, probeTimeoutMs: 50 })
    await ticks(6, 10)
    stop()
    expect(events).toEqual([])
  })

  it('replaces at once a connection out of step (a reply that is not the probe: another command got it)', async () => {
    let probes = 0
    const counted = connection(async () => {
      probes++
      return 'PONG'
    })
    const stop = superviseRedisConnection(counted.client, { intervalMs: 10, probeTimeoutMs: 50, maxFailures: 3 })
    let probesBeforeReplacing = 0
    const destroy = counted.client.destroy.bind(counted.client)
    ;(counted.client as { destroy: () => void }).destroy = () => {
      if (probesBeforeReplacing === 0) probesBeforeReplacing = probes
      destroy()
    }
    await expect.poll(() => counted.events.length, { timeout: 5_000 }).toBeGreaterThan(0)
    stop()
    // On the first wrong reply, not after three probes.
    expect(probesBeforeReplacing).toBe(1)
    expect(counted.events.slice(0, 2)).toEqual(['destroy', 'connect'])
  })

  it('replaces a connection that stops answering after the allowed failures', async () => {
    const { client, events } = connection(() => new Promise<string>(() => {}))
    const stop = superviseRedisConnection(client, { intervalMs: 10, probeTimeoutMs: 20, maxFailures: 2 })
    await expect.poll(() => events, { timeout: 5_000 }).toContain('destroy')
    stop()
  })
})
