/**
 * One bridge replica for the queue benchmark (forked by run.ts): the real Recharge client + queue, sharing its
 * budget through Redis with the other replicas, driving load at the simulator. Interactive calls arrive open-loop
 * (Poisson, `interactivePerSecond`); background calls come from `backgroundWorkers` closed-loop workers. Reports
 * per-lane outcomes and queue waits to the parent over IPC.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { createTopologyClient, parseRedisTopology } from '../../src/infra/redis-topology.ts'
import { createRecharge } from '../../src/recharge/create.ts'
import { RechargeRateLimitedError } from '../../src/recharge/errors.ts'
import { noopMetrics, type RechargeMetrics } from '../../src/recharge/observability.ts'
import type { Lane } from '../../src/recharge/types.ts'

export interface ReplicaPlan {
  startAt: number
  durationMs: number
  interactivePerSecond: number
  backgroundWorkers: number
}

export interface LaneResult {
  offered: number
  ok: number
  rejected: number
  rateLimitedUpstream: number
  errors: Record<string, number>
  /** Queue waits (admission → slot) of the calls that were sent, ms. */
  waitsMs: number[]
}

export interface ReplicaResult {
  replica: string
  interactive: LaneResult
  background: LaneResult
}

const env = process.env
const replica = env.BENCH_REPLICA ?? 'r?'

function emptyLane(): LaneResult {
  return { offered: 0, ok: 0, rejected: 0, rateLimitedUpstream: 0, errors: {}, waitsMs: [] }
}

const results: ReplicaResult = { replica, interactive: emptyLane(), background: emptyLane() }
const metrics: RechargeMetrics = {
  ...noopMetrics,
  // The bench sends no optional reads; were there any, they are counted with the interactive calls they serve.
  queueWait: (lane, seconds) =>
    results[lane === 'optional' ? 'interactive' : lane].waitsMs.push(Math.round(seconds * 1000)),
}

// REDIS_URL as the bridge reads it: one server or a cluster seed list (npm run bench -- --redis cluster).
const topology = parseRedisTopology({ REDIS_URL: env.REDIS_URL ?? 'redis://127.0.0.1:6379' }).topology
if (!topology) throw new Error(`REDIS_URL ${env.REDIS_URL} is not a Redis URL`)
const redis = createTopologyClient(topology, { name: `bench-queue-${replica}` })
redis.on('error', () => {})
await redis.connect()
const stack = createRecharge({
  baseUrl: env.SIM_URL ?? '',
  token: env.SIM_TOKEN ?? '',
  apiVersion: '2021-11',
  bucketSize: Number(env.BUCKET_SIZE),
  leakRate: Number(env.LEAK_RATE),
  redis,
  keyPrefix: env.KEY_PREFIX ?? 'bench',
  metrics,
})

async function call(lane: Lane, stopAt: number): Promise<void> {
  const lane_ = results[lane]
  lane_.offered++
  try {
    await stack.client.store.get({ lane })
    lane_.ok++
  } catch (error) {
    if (error instanceof RechargeRateLimitedError) {
      if (error.reason === 'admission') lane_.rejected++
      else lane_.rateLimitedUpstream++
      // A closed-loop background worker honours Retry-After (but not past the end of the run).
      if (lane === 'background') await sleep(Math.min(error.retryAfterSeconds * 1000, Math.max(0, stopAt - Date.now())))
    } else {
      const name = (error as Error).name
      lane_.errors[name] = (lane_.errors[name] ?? 0) + 1
    }
  }
}

async function run(plan: ReplicaPlan): Promise<void> {
  await sleep(Math.max(0, plan.startAt - Date.now()))
  const stopAt = plan.startAt + plan.durationMs
  const inFlight: Promise<void>[] = []
  const workers = Array.from({ length: plan.backgroundWorkers }, async () => {
    while (Date.now() < stopAt) await call('background', stopAt)
  })
  if (plan.interactivePerSecond > 0) {
    // Open loop: exponential inter-arrival times, absolute schedule so timer lag does not lower the offered rate.
    let next = plan.startAt
    while (next < stopAt) {
      next += -Math.log(1 - Math.random()) * (1000 / plan.interactivePerSecond)
      const delay = next - Date.now()
      if (delay > 1) await sleep(delay)
      inFlight.push(call('interactive', stopAt))
    }
  }
  await Promise.all([...inFlight, ...workers])
}

process.on('message', async (message: { type: string; plan: ReplicaPlan }) => {
  if (message.type !== 'start') return
  await run(message.plan)
  await stack.close(5_000)
  await redis.close()
  process.send?.({ type: 'result', result: results }, () => process.exit(0))
})
process.send?.({ type: 'ready' })
