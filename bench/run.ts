/**
 * The benchmark harness: one command, every suite, side by side with the baselines, on this machine.
 *
 *   npm run bench                  quick profile (≤ 5 min): 3 interleaved rounds, shortened queue and fault suites
 *   npm run bench -- --full        5 rounds, full-length queue phases (incl. the real 2/s budget)
 *   npm run bench -- --smoke       seconds per mode: proves the harness runs; results are not published
 *   npm run bench -- --only throughput,cache      a subset of: throughput, webhooks, queue, cache, budget
 *   npm run bench -- --no-build    skip the dist/ freshness check
 *   npm run bench -- --note "…"    what else ran on the machine (goes into the report)
 *   npm run bench -- --render bench/results/<file>.json   re-render the report of that run (after editing notes)
 *
 * Starts (all children of this process, all stopped at the end): a private redis-server on a free port, the
 * simulator (`dist/simulator/server.js`), three bridge replicas (`dist/server.js`, NODE_ENV=production) and the
 * baselines (bare Fastify hello-world, reply-from proxy), and for the uncached route one bridge (C, C2…) and one
 * reply-from proxy per round. autocannon runs in this process.
 *
 * Writes bench/results/<date>-<profile>.json and .md, and (quick and full profiles) docs/benchmarks.md with
 * docs/benchmarks.svg.
 */
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { stopAll } from './harness/processes.ts'
import { ensureBuilt, setUp } from './harness/setup.ts'
import { type Profile, type ProfileName, profiles, type RunContext } from './harness/types.ts'
import { type MachineInfo, machineInfo, type SuiteResults, writeReport } from './report/write.ts'
import { budgetSuite } from './suites/budget.ts'
import { cacheSuite } from './suites/cache.ts'
import { queueSuite } from './suites/queue.ts'
import { throughputSuite } from './suites/throughput.ts'
import { webhooksSuite } from './suites/webhooks.ts'

const { values } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
    only: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    note: { type: 'string' },
    render: { type: 'string' },
  },
})

if (values.render) {
  // Re-render the report of an earlier run (after editing bench/report/notes.md): no servers, no load.
  const saved = JSON.parse(readFileSync(values.render, 'utf8')) as {
    at: string
    profile: Profile
    machine: MachineInfo
    elapsedS: number
    failures: Record<string, string>
    results: SuiteResults
  }
  const written = await writeReport(
    saved.profile,
    saved.results,
    saved.machine,
    saved.elapsedS * 1000,
    saved.failures,
    new Date(saved.at),
  )
  process.stderr.write(`wrote ${written.join(', ')}\n`)
  process.exit(0)
}
const profileName: ProfileName = values.full ? 'full' : values.smoke ? 'smoke' : 'quick'
const profile = profiles[profileName]
const all = ['throughput', 'webhooks', 'queue', 'cache', 'budget'] as const
const selected = new Set(values.only ? values.only.split(',') : all)
const log = (line: string) => process.stderr.write(`${line}\n`)

if (!values['no-build']) ensureBuilt(log, false)
log(`profile ${profile.name}: suites ${[...selected].join(', ')}`)
const loadAtStart = loadavg()
const results: SuiteResults = {}
const failures: Record<string, string> = {}
const started = Date.now()

/** A suite that fails is reported as failed; the others still run and the report is still written. */
async function attempt<T>(name: string, what: string, suite: () => Promise<T>): Promise<T | undefined> {
  if (!selected.has(name)) return undefined
  log(`${name} (${what})`)
  try {
    return await suite()
  } catch (error) {
    failures[name] = error instanceof Error ? (error.stack ?? error.message) : String(error)
    log(`  FAILED: ${failures[name]}`)
    return undefined
  }
}

let run: RunContext | undefined
try {
  run = await setUp(profile, log)
  const ctx = run
  log(
    `started redis :${ctx.redis.port}, simulator ${ctx.simulator.url}, ${ctx.bridges.uncached.length + 2} bridges, baselines`,
  )
  results.throughput = await attempt('throughput', 'cached and uncached routes vs baselines', () =>
    throughputSuite(ctx),
  )
  results.webhooks = await attempt('webhooks', 'ack latency at a fixed rate', () => webhooksSuite(ctx))
  results.queue = await attempt('queue', '3 replicas, one shared budget', () => queueSuite(ctx))
  results.cache = await attempt('cache', 'stampede, SWR, stale-if-error, invalidation, Redis killed', () =>
    cacheSuite(ctx),
  )
  results.budget = await attempt('budget', 'anonymous flood and foreign-id probe at the real 40/2 budget', () =>
    budgetSuite(ctx),
  )
} finally {
  await run?.redis.stop()
  await stopAll()
}
const machine = machineInfo(loadAtStart, values.note)
const written = await writeReport(profile, results, machine, Date.now() - started, failures)
log(`wrote ${written.join(', ')} (${Math.round((Date.now() - started) / 1000)} s)`)
if (Object.keys(failures).length > 0) process.exitCode = 1
