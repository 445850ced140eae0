/**
 * The benchmark harness: one command, every suite, side by side with the baselines, on this machine.
 *
 *   npm run bench                  quick profile (≤ 5 min): 3 interleaved rounds, shortened queue and fault suites
 *   npm run bench -- --full        5 rounds, full-length queue phases (incl. the real 2/s budget)
 *   npm run bench -- --smoke       seconds per mode: proves the harness runs; results are not published
 *   npm run bench -- --only throughput,cache      a subset of: throughput, webhooks, queue, cache, budget
 *   npm run bench -- --only steady -- --rounds 2  a deeper suite, alone, with its own arguments after `--`:
 *                                  cache-limits, webhooks-ack, queue-phases, steady, interference, catalog-sync,
 *                                  import
 *                                  mirror (`--only mirror -- --quick` for a shrunk smoke run)
 *   npm run bench -- --no-build    skip the dist/ freshness check
 *   npm run bench -- --note "…"    what else ran on the machine (goes into the report)
 *   npm run bench -- --render bench/results/<file>.json   re-render the report of that run (after editing notes)
 *   npm run bench -- --only queue,cache --redis cluster   those suites on a 3-primary, 3-replica Redis Cluster;
 *                                  `--redis single` the same on one server. With --redis the report goes to
 *                                  bench/results/redis-<single|cluster>.{json,md} only (docs/redis.md compares the
 *                                  two), never over docs/benchmarks.md
 *
 * Starts (all children of this process, all stopped at the end): a private redis-server on a free port, the
 * simulator (`dist/simulator/server.js`), three bridge replicas (`dist/server.js`, NODE_ENV=production) and the
 * baselines (bare Fastify hello-world, reply-from proxy), and for the uncached route one bridge (C, C2…) and one
 * reply-from proxy per round. autocannon runs in this process.
 *
 * Writes bench/results/<date>-<profile>.json and .md, and (quick and full profiles) docs/benchmarks.md with
 * docs/benchmarks.svg.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { repoRoot, stopAll } from './harness/processes.ts'
import { ensureBuilt, setUp } from './harness/setup.ts'
import { type Profile, type ProfileName, profiles, type RunContext } from './harness/types.ts'
import { type MachineInfo, machineInfo, type SuiteResults, writeReport } from './report/write.ts'
import { budgetSuite } from './suites/budget.ts'
import { cacheSuite } from './suites/cache.ts'
import { queueSuite } from './suites/queue.ts'
import { throughputSuite } from './suites/throughput.ts'
import { webhooksSuite } from './suites/webhooks.ts'

const { values, positionals } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
    only: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    note: { type: 'string' },
    render: { type: 'string' },
    redis: { type: 'string' },
  },
  // Arguments after `--` go to the deeper suites (e.g. `-- --rounds 2 --seconds 1`).
  allowPositionals: true,
})

/**
 * The deeper per-capability suites: each starts its own processes, runs alone, and writes its own
 * bench/results/<name>.json and .md (their latest results are linked from docs/benchmarks.md). Tuned by their own
 * arguments (after `--`) or BENCH_* variables, as each file's header says.
 */
const deeperSuites: Record<string, string> = {
  'cache-limits': 'bench/suites/cache-limits/run.ts',
  'webhooks-ack': 'bench/suites/webhooks-ack/run.ts',
  'queue-phases': 'bench/suites/queue-phases.ts',
  steady: 'bench/suites/steady.ts',
  interference: 'bench/suites/interference.ts',
  'catalog-sync': 'bench/suites/catalog-sync.ts',
  import: 'bench/suites/import.ts',
  mirror: 'bench/suites/mirror/run.ts',
}

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
const redisKind = values.redis === 'cluster' ? 'cluster' : 'single'
if (values.redis !== undefined && values.redis !== 'single' && values.redis !== 'cluster') {
  process.stderr.write(`--redis ${values.redis}: use single or cluster\n`)
  process.exit(2)
}
const profileName: ProfileName = values.full ? 'full' : values.smoke ? 'smoke' : 'quick'
const profile = profiles[profileName]
const all = ['throughput', 'webhooks', 'queue', 'cache', 'budget'] as const
const selected = new Set<string>(values.only ? values.only.split(',') : all)
const log = (line: string) => process.stderr.write(`${line}\n`)

const unknown = [...selected].filter((name) => !(all as readonly string[]).includes(name) && !(name in deeperSuites))
if (unknown.length > 0) {
  log(`unknown suite(s) ${unknown.join(', ')}; choose from ${[...all, ...Object.keys(deeperSuites)].join(', ')}`)
  process.exit(2)
}
if (!values['no-build']) ensureBuilt(log, false)
const deeper = [...selected].filter((name) => name in deeperSuites)
if (deeper.length > 0) {
  // One at a time, each in its own process (they start their own servers and read their own arguments).
  let failed = false
  for (const name of deeper) {
    log(`${name} (${deeperSuites[name]} ${positionals.join(' ')})`)
    const child = spawnSync(process.execPath, [`${repoRoot}${deeperSuites[name]}`, ...positionals], {
      cwd: repoRoot,
      stdio: 'inherit',
    })
    if (child.status !== 0) {
      log(`  FAILED: ${name} exited with ${child.status ?? child.signal}`)
      failed = true
    }
    selected.delete(name)
  }
  if (selected.size === 0) process.exit(failed ? 1 : 0)
  if (failed) process.exitCode = 1
}
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
  run = await setUp(profile, log, redisKind)
  const ctx = run
  log(
    `started redis ${ctx.redis.url}, simulator ${ctx.simulator.url}, ${ctx.bridges.uncached.length + 2} bridges, baselines`,
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
  await run?.redis.dispose()
  await stopAll()
}
const machine = machineInfo(loadAtStart, values.note)
const written = await writeReport(
  profile,
  results,
  machine,
  Date.now() - started,
  failures,
  new Date(),
  values.redis ? redisKind : undefined,
)
log(`wrote ${written.join(', ')} (${Math.round((Date.now() - started) / 1000)} s)`)
if (Object.keys(failures).length > 0) process.exitCode = 1
