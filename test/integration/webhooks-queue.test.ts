import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createBlockingRedisClient, type RedisClient, RedisDeadlineError } from '../../src/infra/redis.ts'
import { MemoryQueue } from '../../src/webhooks/queue/memory.ts'
import { RedisStreamQueue } from '../../src/webhooks/queue/redis-stream.ts'
import type { Job, JobQueue } from '../../src/webhooks/queue/types.ts'
import { MemoryEventStore, RedisEventStore } from '../../src/webhooks/store.ts'
import { startFaultProxy } from '../support/fault-proxy.ts'
import { connectRedis, deleteKeys, redisTopology, redisTopologyKind, redisUrl, uniquePrefix } from '../support/redis.ts'
import { until } from '../support/until.ts'

let redis: RedisClient
const prefix = uniquePrefix('webhooks-queue')
let queues: JobQueue[] = []

beforeAll(async () => {
  redis = await connectRedis()
})

// A test's consumers stop with it: left running, their loops would share the process with the next test's.
afterEach(async () => {
  for (const queue of queues) await queue.stop()
  queues = []
})

afterAll(async () => {
  await deleteKeys(redis, `${prefix}*`)
  await redis.close()
})

function streamQueue(name: string, overrides: Partial<ConstructorParameters<typeof RedisStreamQueue>[0]> = {}) {
  const queue = new RedisStreamQueue({
    redis,
    createBlockingClient: () => createBlockingRedisClient(redisTopology(), 'webhooks-queue-test'),
    stream: `${prefix}:${name}`,
    deadLetterStream: `${prefix}:${name}:dead`,
    group: 'g',
    maxLen: 1_000,
    blockMs: 100,
    maxAttempts: 3,
    retryAfterMs: 150,
    batchSize: 8,
    drainMs: 1_000,
    ...overrides,
  })
  queues.push(queue)
  return queue
}

describe('Redis stream queue', () => {
  // A fault proxy sits in front of one server's address: single Redis only.
  it.skipIf(redisTopologyKind() !== 'single')(
    'replaces a consumer connection that stopped answering (a killed Redis container) and goes on processing',
    async () => {
      const target = new URL(redisUrl())
      const proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port || 6379) })
      try {
        const queue = streamQueue('blackholed', {
          createBlockingClient: () => createBlockingRedisClient(proxy.url('redis'), 'webhooks-queue-test'),
        })
        const seen: string[] = []
        await queue.start(async (job) => {
          seen.push(job.fields.n as string)
        })
        await queue.enqueue({ n: 'before' })
        await until(() => seen.length === 1)
        // Acknowledged first: a black hole that caught the acknowledgement would deliver 'before' again (at least once,
        // the test below), and this test is about the blocked read.
        await until(async () => (await redis.xLen(`${prefix}:blackholed`)) === 0)
        // The consumer's blocked read is swallowed: no reply, no reset, as when the Redis container is killed.
        await proxy.set({ blackhole: true })
        await sleep(300)
        await proxy.set({})
        await queue.enqueue({ n: 'after' })
        await until(() => seen.length === 2)
        expect(seen).toEqual(['before', 'after'])
      } finally {
        await proxy.close()
      }
    },
  )

  // A fault proxy sits in front of one server's address: single Redis only.
  it.skipIf(redisTopologyKind() !== 'single')(
    'replaces a consumer connection that stopped answering between reads (while acknowledging a job)',
    async () => {
      const target = new URL(redisUrl())
      const proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port || 6379) })
      try {
        let deadlines = 0
        const queue = streamQueue('blackholed-ack', {
          createBlockingClient: () => createBlockingRedisClient(proxy.url('redis'), 'webhooks-queue-test'),
          onError: (error) => {
            if (!(error instanceof RedisDeadlineError)) return
            deadlines++
            // The queue has just replaced the connection: its replacement must find the network back.
            void proxy.set({})
          },
        })
        const attempts: string[] = []
        await queue.start(async (job) => {
          attempts.push(`${job.fields.n}#${job.attempt}`)
          // The connection goes silent as the handler returns: the XACK/XDEL that follows gets no reply.
          if (job.fields.n === 'first' && job.attempt === 1) await proxy.set({ blackhole: true })
        })
        await queue.enqueue({ n: 'first' })
        await until(() => deadlines === 1)
        await queue.enqueue({ n: 'second' })
        // The unacknowledged first job is delivered again (at least once); both leave the stream.
        await until(() => attempts.includes('first#2') && attempts.includes('second#1'))
        await until(async () => (await redis.xLen(`${prefix}:blackholed-ack`)) === 0)
        expect(attempts.sort()).toEqual(['first#1', 'first#2', 'second#1'])
      } finally {
        await proxy.close()
      }
    },
  )

  // A fault proxy sits in front of one server's address: single Redis only.
  it.skipIf(redisTopologyKind() !== 'single')(
    'replaces a consumer connection stuck in its handshake (a reconnect into a dead network)',
    async () => {
      const target = new URL(redisUrl())
      const proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port || 6379) })
      try {
        // The first connection is accepted and never answered, so it never becomes ready: node-redis waits forever.
        await proxy.set({ hang: true })
        const queue = streamQueue('stuck-handshake', {
          createBlockingClient: () => createBlockingRedisClient(proxy.url('redis'), 'webhooks-queue-test'),
        })
        const seen: string[] = []
        await queue.start(async (job) => {
          seen.push(job.fields.n as string)
        })
        await until(() => proxy.accepted === 1)
        await proxy.set({})
        await queue.enqueue({ n: 'waiting' })
        await until(() => seen.length === 1)
        expect(seen).toEqual(['waiting'])
        expect(proxy.accepted).toBeGreaterThan(1)
      } finally {
        await proxy.close()
      }
    },
  )

  it('hands every enqueued job to the handler once and removes it when done', async () => {
    const queue = streamQueue('basic')
    const seen: Job[] = []
    await queue.start(async (job) => {
      seen.push(job)
    })
    for (let i = 0; i < 20; i++) await queue.enqueue({ n: String(i) })
    await until(() => seen.length === 20)
    expect(seen.map((job) => job.fields.n)).toEqual(Array.from({ length: 20 }, (_, i) => String(i)))
    expect(seen.every((job) => job.attempt === 1)).toBe(true)
    await until(async () => (await redis.xLen(`${prefix}:basic`)) === 0)
    expect(await queue.pending()).toBe(0)
  })

  it('keeps jobs enqueued before any consumer existed', async () => {
    const queue = streamQueue('early')
    await queue.enqueue({ n: 'before' })
    const seen: string[] = []
    await queue.start(async (job) => {
      seen.push(job.fields.n as string)
    })
    await until(() => seen.length === 1)
    expect(seen).toEqual(['before'])
  })

  it("lets another consumer take over a dead consumer's job (crash after acknowledgement)", async () => {
    const crashed = streamQueue('takeover', { retryAfterMs: 60_000 })
    let started = false
    await crashed.start(async () => {
      started = true
      await new Promise(() => {}) // never finishes: the process "dies" here
    })
    await crashed.enqueue({ n: 'x' })
    await until(() => started)
    await crashed.stop() // drain gives up; the job stays pending under the dead consumer

    const survivor = streamQueue('takeover', { retryAfterMs: 200 })
    const seen: Job[] = []
    await survivor.start(async (job) => {
      seen.push(job)
    })
    await until(() => seen.length === 1)
    expect(seen[0]?.fields.n).toBe('x')
    expect(seen[0]?.attempt).toBe(2)
    await until(async () => (await redis.xLen(`${prefix}:takeover`)) === 0)
  })

  it('retries a failing job and dead-letters it after maxAttempts', async () => {
    const dead: string[] = []
    const queue = streamQueue('failing', { onDeadLetter: ({ error }) => dead.push(error) })
    const attempts: number[] = []
    await queue.start(async (job) => {
      attempts.push(job.attempt)
      throw new Error('downstream unavailable')
    })
    await queue.enqueue({ n: 'bad' })
    await until(() => dead.length === 1)
    expect(attempts).toEqual([1, 2, 3])
    const entry = (await redis.xRange(`${prefix}:failing:dead`, '-', '+'))?.[0]
    expect(entry?.message).toMatchObject({ n: 'bad', error: 'downstream unavailable' })
    expect(await redis.xLen(`${prefix}:failing`)).toBe(0)
  })
})

describe('in-process queue', () => {
  it('retries and dead-letters after maxAttempts', async () => {
    const dead: string[] = []
    const queue = new MemoryQueue({
      maxAttempts: 3,
      retryAfterMs: 10,
      batchSize: 4,
      drainMs: 500,
      onDeadLetter: ({ job }) => dead.push(job.fields.n as string),
    })
    queues.push(queue)
    const attempts: number[] = []
    await queue.start(async (job) => {
      if (job.fields.n === 'bad') {
        attempts.push(job.attempt)
        throw new Error('no')
      }
    })
    await queue.enqueue({ n: 'bad' })
    await queue.enqueue({ n: 'good' })
    await until(() => dead.length === 1)
    expect(attempts).toEqual([1, 2, 3])
    expect(await queue.pending()).toBe(0)
  })
})

describe.each([
  ['redis', () => new RedisEventStore(redis, `${prefix}:store`)],
  ['memory', () => new MemoryEventStore()],
])('%s event store', (_name, make) => {
  it('processes a delivery once: a second job with the same hash is a duplicate, the same job may retry', async () => {
    const store = make()
    expect(await store.claim('h1', 'job-a')).toBe('claimed')
    expect(await store.claim('h1', 'job-b')).toBe('duplicate')
    expect(await store.claim('h1', 'job-a')).toBe('claimed')
    await store.complete('h1')
    expect(await store.claim('h1', 'job-a')).toBe('duplicate')
    expect(await store.claim('h2', 'job-c')).toBe('claimed')
    await store.release('h2', 'job-c')
    expect(await store.claim('h2', 'job-d')).toBe('claimed')
  })

  it('reports an older version of a record as stale and never moves the version back', async () => {
    const store = make()
    const ref = (updatedAt: number) => ({ resource: 'subscription', id: '42', updatedAt })
    expect(await store.observe(ref(2_000))).toBe('fresh')
    expect(await store.observe(ref(1_000))).toBe('stale')
    expect(await store.observe(ref(2_000))).toBe('fresh')
    expect(await store.observe(ref(3_000))).toBe('fresh')
    expect(await store.observe(ref(2_500))).toBe('stale')
    expect(await store.observe({ resource: 'subscription', id: '42', updatedAt: null })).toBe('fresh')
  })
})
