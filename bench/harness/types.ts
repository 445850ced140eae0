import type { BridgeProcess } from './bridge.ts'
import type { BenchRedis } from './redis.ts'
import type { SimulatorProcess } from './simulator.ts'

export type ProfileName = 'quick' | 'full' | 'smoke'

/** How long each suite runs. `smoke` only proves the harness works (seconds per mode); never publish it. */
export interface Profile {
  name: ProfileName
  rounds: number
  warmupS: number
  /** Load on every mode before round 1, so each process's optimising compiler has finished with its hot paths. */
  jitWarmupS: number
  measureS: number
  connections: number
  queuePhaseS: { compressed: number; background: number; real: number | null }
  webhookS: number
  webhookRate: number
  redisKill: { loadS: number; killAtS: number; restartAtS: number }
}

export const profiles: Record<ProfileName, Profile> = {
  smoke: {
    name: 'smoke',
    rounds: 1,
    warmupS: 1,
    jitWarmupS: 1,
    measureS: 1,
    connections: 50,
    queuePhaseS: { compressed: 3, background: 3, real: null },
    webhookS: 2,
    webhookRate: 200,
    redisKill: { loadS: 4, killAtS: 1, restartAtS: 2.5 },
  },
  quick: {
    name: 'quick',
    rounds: 3,
    warmupS: 1,
    jitWarmupS: 4,
    measureS: 3,
    connections: 50,
    queuePhaseS: { compressed: 20, background: 10, real: null },
    webhookS: 8,
    webhookRate: 200,
    redisKill: { loadS: 9, killAtS: 2, restartAtS: 5 },
  },
  full: {
    name: 'full',
    rounds: 5,
    warmupS: 2,
    jitWarmupS: 8,
    measureS: 5,
    connections: 50,
    queuePhaseS: { compressed: 60, background: 30, real: 60 },
    webhookS: 20,
    webhookRate: 200,
    redisKill: { loadS: 20, killAtS: 4, restartAtS: 14 },
  },
}

/** Everything a suite may use: the processes of this run, started once by bench/run.ts. */
export interface RunContext {
  profile: Profile
  simulator: SimulatorProcess
  redis: BenchRedis
  /**
   * A: default L1; B: L1 disabled (Redis L2 only); C: default L1 (third replica for cross-replica suites).
   * `uncached`: the throughput suite's uncached route, on processes that serve no other mode (C is the first).
   */
  bridges: { a: BridgeProcess; b: BridgeProcess; c: BridgeProcess; uncached: BridgeProcess[] }
  /** `customerProxies`: reply-from proxies of their own, the uncached route's baseline (as many as `bridges.uncached`). */
  baselines: { hello: string; proxy: string; customerProxies: string[]; hook: string }
  /** Process ids whose CPU time the throughput suite reads (the bridges, the baselines, Redis, the simulator). */
  pids: {
    hello: number
    proxy: number
    customerProxies: number[]
    uncached: number[]
    simulator: number
    redis: number
    a: number
    b: number
  }
  /** The product measured by the throughput suite, its catalog document, and spare products for cache suites. */
  productId: string
  productBody: string
  spareProductIds: string[]
  /** When the spare products were cached (the catalog's TTL is 60 s: SWR and stale-if-error need older entries). */
  sparesCachedAt: number
  customer: { id: string; email: string; token: string }
  startedAt: number
  log(line: string): void
}

/** One target of the benchmark with its measured value. `pass: null` = not measured in this run (with the reason). */
export interface GoalResult {
  id: string
  goal: string
  value: number | null
  unit: string
  /** The target as a number on the same scale as `value` (for the chart). */
  target: number
  comparison: '>=' | '<='
  pass: boolean | null
  note?: string
}
