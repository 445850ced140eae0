import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { RedisClient } from '../../src/plugins/redis.ts'
import { REGISTRABLE_TOPICS } from '../../src/simulator/routes/webhooks.ts'
import { NEEDED_TOPICS } from '../../src/webhooks/topics.ts'
import { testConfig } from '../support/config.ts'
import { connectRedis, deleteKeys, redisUrl, uniquePrefix } from '../support/redis.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

const prefix = uniquePrefix('webhooks-watchdog')
let redis: RedisClient
let simulator: TestSimulator
const replicas: FastifyInstance[] = []

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time')
    await sleep(25)
  }
}

beforeAll(async () => {
  redis = await connectRedis()
  simulator = await startTestSimulator({ webhookAutoDeliver: false, bucketSize: 400, leakRate: 200 })
})

afterAll(async () => {
  for (const app of replicas) await app.close()
  await simulator?.close()
  await deleteKeys(redis, `${prefix}*`)
  await redis.close()
})

describe('registration watchdog with several replicas', () => {
  it('lets one replica register per round (no duplicate creates) and shares the result', async () => {
    for (let i = 0; i < 3; i++) {
      const app = await buildApp(
        testConfig({
          RECHARGE_API_TOKEN: simulator.apiToken,
          RECHARGE_API_URL: simulator.url,
          RECHARGE_WEBHOOK_SECRET: simulator.clientSecret,
          REDIS_URL: redisUrl(),
          PUBLIC_URL: 'https://bridge.example',
          RECHARGE_BUCKET_SIZE: '400',
          RECHARGE_LEAK_RATE: '200',
        }),
        {
          webhooks: {
            keyPrefix: prefix,
            blockMs: 100,
            watchdog: true,
            watchdogFirstDelayMs: 0,
            watchdogIntervalMs: 2_000,
          },
        },
      )
      await app.ready()
      replicas.push(app)
    }
    const supported = NEEDED_TOPICS.filter((topic) => REGISTRABLE_TOPICS.includes(topic))
    // First round: all three tick at once, one holds the lock and registers.
    await until(() => replicas.some((app) => app.webhooks.watchdog?.state.checkedAt !== null))
    const firstRound = await simulator.ledger({ method: 'POST', path: '/webhooks' })
    expect(firstRound).toHaveLength(NEEDED_TOPICS.length) // one POST per topic, not one per replica
    expect(firstRound.filter((entry) => entry.status === 201)).toHaveLength(supported.length)

    // Later rounds: the others adopt the shared result; nothing is ever registered twice.
    await until(() => replicas.every((app) => app.webhooks.watchdog?.state.checkedAt !== null))
    const state = await simulator.state()
    const ours = state.webhooks.filter((webhook) => webhook.address.startsWith('https://bridge.example/'))
    expect(ours).toHaveLength(supported.length)
    expect(new Set(ours.map((webhook) => webhook.topic)).size).toBe(supported.length)
    const creates = await simulator.ledger({ method: 'POST', path: '/webhooks' })
    expect(creates.filter((entry) => entry.status === 201)).toHaveLength(supported.length)
    for (const app of replicas) {
      expect(app.webhooks.watchdog?.state.missing.length).toBe(NEEDED_TOPICS.length - supported.length)
    }
  })
})
