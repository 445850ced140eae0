/**
 * What the steady-state scripts share: the uncached route and its reply-from baseline on processes of their own, over
 * one simulator with an unlimited budget and one private redis-server, as the throughput suite starts them.
 */
import { parseArgs } from 'node:util'
import { DisposableRedis } from '../../tools/redis-server.ts'
import { type BridgeProcess, benchShopper, startBridge } from './bridge.ts'
import type { LoadTarget } from './load.ts'
import { stopAll } from './processes.ts'
import { ensureBuilt, startBaseline, UNLIMITED } from './setup.ts'
import { type SimulatorProcess, startSimulator } from './simulator.ts'

/** One process under load: where its load goes, and whose CPU time is its cost. */
export interface PairSide {
  name: string
  target: LoadTarget
  pids: number[]
}

export interface PairBench {
  redis: DisposableRedis
  simulator: SimulatorProcess
  /** A bridge replica answering GET /v1/portal/url for the bench shopper (its CPU: the bridge and Redis). */
  bridge(name: string): Promise<PairSide & { process: BridgeProcess }>
  /** A reply-from proxy answering the same upstream call, GET /customers/:id. */
  proxy(name: string): Promise<PairSide>
  log(line: string): void
}

/** `--name value` options of a script, all numbers, with their defaults. */
export function numericOptions<K extends string>(defaults: Record<K, number>): Record<K, number> {
  const names = Object.keys(defaults) as K[]
  const { values } = parseArgs({
    options: Object.fromEntries(names.map((name) => [name, { type: 'string' as const }])),
  })
  return Object.fromEntries(
    names.map((name) => [name, values[name] === undefined ? defaults[name] : Number(values[name])]),
  ) as Record<K, number>
}

/** Builds dist/ if it is stale, starts Redis and the simulator, runs `body`, then stops every process it started. */
export async function withPairBench(body: (bench: PairBench) => Promise<void>): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`)
  ensureBuilt(log, false)
  const redis = await DisposableRedis.start()
  try {
    const simulator = await startSimulator({ bucketSize: UNLIMITED, leakRate: UNLIMITED })
    const customer = await benchShopper(simulator)
    const auth = { authorization: `Bearer ${customer.token}` }
    const customerBody = await expectOk(`${simulator.url}/customers/${customer.id}`, simulator.headers)
    await body({
      redis,
      simulator,
      log,
      async bridge(name) {
        const bridge = await startBridge({
          name,
          simulator,
          redisUrl: redis.url,
          bucketSize: UNLIMITED,
          leakRate: UNLIMITED,
        })
        const url = `${bridge.url}/v1/portal/url`
        return {
          name,
          target: { url, headers: auth, expectBody: await expectOk(url, auth) },
          pids: [bridge.process.child.pid ?? 0, redis.pid ?? 0],
          process: bridge,
        }
      },
      async proxy(name) {
        const proxy = await startBaseline('proxy', { SIM_URL: simulator.url, SIM_TOKEN: simulator.apiToken })
        return {
          name,
          target: { url: `${proxy.url}/customers/${customer.id}`, expectBody: customerBody },
          pids: [proxy.pid],
        }
      },
    })
  } finally {
    await stopAll()
    await redis.stop()
  }
}

/** The body of a GET that must succeed. */
export async function expectOk(url: string, headers: Record<string, string> = {}): Promise<string> {
  const response = await fetch(url, { headers })
  const body = await response.text()
  if (!response.ok) throw new Error(`${url} → ${response.status}: ${body}`)
  return body
}
