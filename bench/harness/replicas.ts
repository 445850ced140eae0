import { type ChildProcess, fork } from 'node:child_process'
import { once } from 'node:events'
import type { ReplicaPlan, ReplicaResult } from './replica.ts'

/** What every replica of one phase shares: the simulator, the Redis budget and the bucket it mirrors. */
export interface ReplicaSetup {
  count: number
  simUrl: string
  simToken: string
  redisUrl: string
  keyPrefix: string
  bucketSize: number
  leakRate: number
  /** Environment the children inherit besides their settings (at least PATH). */
  baseEnv: NodeJS.ProcessEnv
}

export interface ReplicaLoad {
  durationS: number
  interactivePerReplica: number
  backgroundWorkers: number
}

/**
 * Fork `count` replica processes (bench/harness/replica.ts: the real client and queue) and wait until each is ready.
 * `results` settle when a replica reports, or reject if it exits first.
 */
export async function forkReplicas(
  setup: ReplicaSetup,
): Promise<{ children: ChildProcess[]; results: Promise<ReplicaResult>[] }> {
  const children: ChildProcess[] = []
  const results: Promise<ReplicaResult>[] = []
  for (let index = 0; index < setup.count; index++) {
    const child = fork(new URL('./replica.ts', import.meta.url).pathname, [], {
      env: {
        ...setup.baseEnv,
        BENCH_REPLICA: `r${index + 1}`,
        SIM_URL: setup.simUrl,
        SIM_TOKEN: setup.simToken,
        REDIS_URL: setup.redisUrl,
        KEY_PREFIX: setup.keyPrefix,
        BUCKET_SIZE: String(setup.bucketSize),
        LEAK_RATE: String(setup.leakRate),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    children.push(child)
    const ready = once(child, 'message')
    results.push(
      new Promise((resolve, reject) => {
        child.on('message', (message: { type: string; result?: ReplicaResult }) => {
          if (message.type === 'result' && message.result) resolve(message.result)
        })
        child.on('exit', (code) => reject(new Error(`queue replica ${index + 1} exited with ${code}`)))
      }),
    )
    await ready
  }
  return { children, results }
}

/** Start every replica's load at one shared instant, shortly from now; returns the measured window. */
export function startReplicas(
  children: readonly ChildProcess[],
  load: ReplicaLoad,
): { startAt: number; durationMs: number } {
  const startAt = Date.now() + 500
  const durationMs = load.durationS * 1000
  const plan: ReplicaPlan = {
    startAt,
    durationMs,
    interactivePerSecond: load.interactivePerReplica,
    backgroundWorkers: load.backgroundWorkers,
  }
  for (const child of children) child.send({ type: 'start', plan })
  return { startAt, durationMs }
}
