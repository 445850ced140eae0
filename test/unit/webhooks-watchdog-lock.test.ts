import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { Metrics } from '../../src/infra/metrics/registry.ts'
import { type RedisClient, RedisDeadlineError } from '../../src/infra/redis.ts'
import type { WebhooksResource } from '../../src/recharge/resources/webhooks.ts'
import { webhookMetrics } from '../../src/webhooks/metrics.ts'
import { type RegistrationState, RegistrationWatchdog } from '../../src/webhooks/watchdog.ts'
import { until } from '../support/until.ts'

/**
 * The registration lock: a SET that gets no answer (Redis down, a reply past its deadline) is not a won lock. The
 * replica skips the round instead of checking next to the one that holds the lock (which registered every topic
 * twice), and tries again at the next round.
 */
const watchdogs: RegistrationWatchdog[] = []

afterEach(async () => {
  for (const watchdog of watchdogs.splice(0)) await watchdog.stop()
})

function fakes(setAnswers: (() => Promise<string | null>)[]) {
  const events: string[] = []
  const stateAtEachSet: RegistrationState[] = []
  let watchdog: RegistrationWatchdog | null = null
  const redis = {
    async set() {
      if (watchdog) stateAtEachSet.push(watchdog.state)
      const answer = setAnswers.shift() ?? (() => Promise.resolve('OK'))
      return answer().then(
        (value) => {
          events.push(`set:${value}`)
          return value
        },
        (error: unknown) => {
          events.push('set:error')
          throw error
        },
      )
    },
    async get() {
      return null
    },
  } as unknown as RedisClient
  const webhooks = {
    async list() {
      events.push('list')
      return []
    },
    async create(input: { topic: string }) {
      events.push(`create:${input.topic}`)
      return { id: input.topic, topic: input.topic, address: '' }
    },
    async delete() {},
  } as unknown as WebhooksResource
  watchdog = new RegistrationWatchdog({
    webhooks,
    publicUrl: 'https://bridge.example',
    intervalMs: 20,
    metrics: webhookMetrics(new Metrics()),
    log: pino({ level: 'silent' }),
    redis,
    keyPrefix: 'test:watchdog-lock',
  })
  watchdogs.push(watchdog)
  return { watchdog, events, stateAtEachSet }
}

describe('registration watchdog lock', () => {
  it('skips the round when the lock SET fails, and checks once a later SET wins', async () => {
    const { watchdog, events, stateAtEachSet } = fakes([
      () => Promise.reject(new RedisDeadlineError('set', 300)),
      () => Promise.resolve('OK'),
    ])
    watchdog.start(0)
    await until(() => watchdog.state.checkedAt !== null)
    // Nothing was listed or created in the round whose SET failed; the check came after the SET that won.
    expect(events.slice(0, 3)).toEqual(['set:error', 'set:OK', 'list'])
    expect(stateAtEachSet[1]).toMatchObject({ checkedAt: null, error: expect.stringMatching(/lock unavailable/) })
    expect(watchdog.state.error).toBeNull()
  })

  it('adopts the shared result, never checks, when another replica holds the lock', async () => {
    const { watchdog, events } = fakes([() => Promise.resolve(null), () => Promise.resolve(null)])
    watchdog.start(0)
    await until(() => events.length >= 2)
    expect(events.slice(0, 2)).toEqual(['set:null', 'set:null'])
  })
})
