import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { RedisClient } from '../../src/infra/redis.ts'
import { createRecharge } from '../../src/recharge/create.ts'
import { REGISTRABLE_TOPICS } from '../../src/simulator/routes/webhooks.ts'
import { reconcileWebhooks } from '../../src/webhooks/registration.ts'
import { NEEDED_TOPICS } from '../../src/webhooks/topics.ts'
import { testConfig } from '../support/config.ts'
import { connectRedis, deleteKeys, redisUrl, uniquePrefix } from '../support/redis.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'
import { until } from '../support/until.ts'

/**
 * Each test gets its own simulator and key prefix: both count every POST /webhooks in the simulator's ledger and the
 * webhooks it holds, so a simulator shared between them counts the other test's registrations too.
 */
let prefix: string
let redis: RedisClient
let simulator: TestSimulator
let replicas: FastifyInstance[] = []

beforeEach(async () => {
  prefix = uniquePrefix('webhooks-watchdog')
  redis = await connectRedis()
  simulator = await startTestSimulator({ webhookAutoDeliver: false, bucketSize: 400, leakRate: 200 })
})

afterEach(async () => {
  for (const app of replicas) await app.close()
  replicas = []
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

describe('registration racing another registrant', () => {
  it('counts a topic another registrant created a moment earlier as registered, not failed', async () => {
    const stack = () =>
      createRecharge({
        baseUrl: simulator.url,
        token: simulator.apiToken,
        apiVersion: '2021-11',
        bucketSize: 400,
        leakRate: 200,
      })
    const [one, two] = [stack(), stack()]
    const publicUrl = 'https://race.example'
    try {
      // The late registrant listed before the first one created anything, so it tries every topic again.
      const staleList = await two.client.webhooks.list()
      const first = await reconcileWebhooks(one.client.webhooks, publicUrl)
      const supported = NEEDED_TOPICS.filter((topic) => REGISTRABLE_TOPICS.includes(topic))
      expect(first.created.sort()).toEqual([...supported].sort())
      let lists = 0
      const late = {
        ...two.client.webhooks,
        list: (options?: Parameters<typeof two.client.webhooks.list>[0]) =>
          lists++ === 0 ? Promise.resolve(staleList) : two.client.webhooks.list(options),
      }
      const before = (await simulator.ledger({ method: 'POST', path: '/webhooks' })).length
      const result = await reconcileWebhooks(late, publicUrl)
      const posts = (await simulator.ledger({ method: 'POST', path: '/webhooks' })).slice(before)
      // Every create was refused (the duplicates with 422), yet only the topics Recharge cannot register failed.
      expect(posts.map((entry) => entry.status).filter((status) => status === 201)).toEqual([])
      expect(result.created).toEqual([])
      expect(result.failed.map((failure) => failure.topic).sort()).toEqual(
        NEEDED_TOPICS.filter((topic) => !supported.includes(topic)).sort(),
      )
      expect(result.plan.kept.map((webhook) => webhook.topic).sort()).toEqual([...supported].sort())
      const ours = (await simulator.state()).webhooks.filter((webhook) => webhook.address.startsWith(publicUrl))
      expect(ours).toHaveLength(supported.length)
    } finally {
      await Promise.all([one.close(), two.close()])
    }
  })
})
