/**
 * Queue benchmark: 3 bridge replicas (child processes running the real client + queue) share one Recharge token's
 * budget through Redis, against the simulator's exact leaky bucket.
 *
 *   npm run bench -- --only queue-phases            # all phases (~2.5 min)
 *   BENCH_PHASES=compressed-10x npm run bench -- --only queue-phases
 *
 * Writes bench/results/queue.json and bench/results/queue.md. Needs Redis (REDIS_URL or 127.0.0.1:6379); keys use a
 * unique prefix and are deleted afterwards.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { createRedisClient } from '../../src/infra/redis.ts'
import { buildSimulator } from '../../src/simulator/app.ts'
import { maxShareDeviation } from '../harness/fairness.ts'
import { percentile } from '../harness/load.ts'
import { forkReplicas, startReplicas } from '../harness/replicas.ts'

interface Phase {
  name: string
  what: string
  bucketSize: number
  leakRate: number
  durationS: number
  replicas: number
  /** Open-loop interactive arrivals per replica per second. */
  interactivePerReplica: number
  /** Closed-loop background workers per replica. */
  backgroundWorkers: number
}

const phases: Phase[] = [
  {
    name: 'compressed-10x',
    what: 'bucket 40, 20/s; interactive open-loop at 10× the leak rate (200/s over 3 replicas)',
    bucketSize: 40,
    leakRate: 20,
    durationS: 60,
    replicas: 3,
    interactivePerReplica: 200 / 3,
    backgroundWorkers: 0,
  },
  {
    name: 'compressed-background-saturating',
    what: 'bucket 40, 20/s; 3×20 background workers saturating + interactive at 15% of the leak rate (3/s)',
    bucketSize: 40,
    leakRate: 20,
    durationS: 30,
    replicas: 3,
    interactivePerReplica: 1,
    backgroundWorkers: 20,
  },
  {
    name: 'real-2-per-second',
    what: 'bucket 40, 2/s (the real Recharge budget); interactive open-loop at 10× (20/s over 3 replicas)',
    bucketSize: 40,
    leakRate: 2,
    durationS: 60,
    replicas: 3,
    interactivePerReplica: 20 / 3,
    backgroundWorkers: 0,
  },
]

const TOKEN = 'sk_bench_queue'
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const runId = randomBytes(4).toString('hex')
const selected = process.env.BENCH_PHASES?.split(',')
/** Smoke runs only (`BENCH_DURATION_S=5`); the published figures use the phase durations above. */
const durationOverride = Number(process.env.BENCH_DURATION_S) || undefined

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0)
}

async function runPhase(phase: Phase) {
  const simulator = await buildSimulator({
    apiTokens: [TOKEN],
    bucketSize: phase.bucketSize,
    leakRate: phase.leakRate,
    webhookAutoDeliver: false,
  })
  const url = await simulator.listen({ port: 0, host: '127.0.0.1' })
  const keyPrefix = `bench:queue:${runId}:${phase.name}`
  const { children, results } = await forkReplicas({
    count: phase.replicas,
    simUrl: url,
    simToken: TOKEN,
    redisUrl,
    keyPrefix,
    bucketSize: phase.bucketSize,
    leakRate: phase.leakRate,
    baseEnv: process.env,
  })
  const { startAt, durationMs } = startReplicas(children, phase)
  process.stdout.write(`${phase.name}: running ${phase.durationS} s …\n`)
  const replicas = await Promise.all(results)

  const ledger = (await simulator.inject({ method: 'GET', url: '/__sim/requests' })).json() as {
    requests: { status: number | null; at: string }[]
  }
  await simulator.close()
  const windowEnd = startAt + durationMs
  const upstream429 = ledger.requests.filter((entry) => entry.status === 429).length
  const upstreamOk = ledger.requests.filter((entry) => entry.status !== null && entry.status < 300)
  const upstreamOkInWindow = upstreamOk.filter((entry) => Date.parse(entry.at) <= windowEnd).length
  const cap = phase.bucketSize + phase.leakRate * phase.durationS
  const okPerReplica = replicas.map((replica) => replica.interactive.ok + replica.background.ok)
  const totalOk = sum(okPerReplica)
  const interactiveWaits = replicas.flatMap((replica) => replica.interactive.waitsMs)
  const backgroundWaits = replicas.flatMap((replica) => replica.background.waitsMs)
  const errors: Record<string, number> = {}
  for (const replica of replicas) {
    for (const lane of [replica.interactive, replica.background]) {
      for (const [name, count] of Object.entries(lane.errors)) errors[name] = (errors[name] ?? 0) + count
    }
  }
  return {
    phase: phase.name,
    what: phase.what,
    durationS: phase.durationS,
    bucketSize: phase.bucketSize,
    leakRate: phase.leakRate,
    replicas: phase.replicas,
    upstream429,
    upstreamOk: upstreamOk.length,
    upstreamOkInWindow,
    budgetCap: cap,
    budgetUse: upstreamOkInWindow / cap,
    offered: {
      interactive: sum(replicas.map((r) => r.interactive.offered)),
      background: sum(replicas.map((r) => r.background.offered)),
    },
    rejectedAtAdmission: {
      interactive: sum(replicas.map((r) => r.interactive.rejected)),
      background: sum(replicas.map((r) => r.background.rejected)),
    },
    rateLimitedToCaller: sum(replicas.map((r) => r.interactive.rateLimitedUpstream + r.background.rateLimitedUpstream)),
    errors,
    sharePerReplica: okPerReplica.map((ok) => (totalOk === 0 ? 0 : ok / totalOk)),
    maxShareDeviation: maxShareDeviation(
      okPerReplica,
      replicas.map((r) => r.interactive.offered + r.background.offered),
    ),
    interactiveWaitMs: {
      p50: percentile(interactiveWaits, 50),
      p95: percentile(interactiveWaits, 95),
      p99: percentile(interactiveWaits, 99),
      max: percentile(interactiveWaits, 100),
    },
    backgroundWaitMs: { p50: percentile(backgroundWaits, 50), p95: percentile(backgroundWaits, 95) },
  }
}

type PhaseResult = Awaited<ReturnType<typeof runPhase>>

function markdown(results: PhaseResult[]): string {
  const pct = (value: number) => `${(value * 100).toFixed(1)} %`
  const lines = [
    '# Queue benchmark',
    '',
    `Run ${new Date().toISOString()} · Node ${process.version} · ${results[0]?.replicas ?? 3} replica processes sharing one Redis · simulator with an exact leaky bucket`,
    '',
    '| phase | duration | upstream 429s | upstream 2xx in window / (cap + rate×T) | budget use | shares (r1/r2/r3) | max share deviation | interactive wait p50 / p95 / p99 | rejected at admission (i / bg) | errors |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ]
  for (const r of results) {
    lines.push(
      `| ${r.phase} | ${r.durationS} s | ${r.upstream429} | ${r.upstreamOkInWindow} / ${r.budgetCap} | ${pct(r.budgetUse)} | ${r.sharePerReplica
        .map((share) => pct(share))
        .join(
          ' / ',
        )} | ${pct(r.maxShareDeviation)} | ${r.interactiveWaitMs.p50} / ${r.interactiveWaitMs.p95} / ${r.interactiveWaitMs.p99} ms | ${r.rejectedAtAdmission.interactive} / ${r.rejectedAtAdmission.background} | ${JSON.stringify(r.errors)} |`,
    )
  }
  lines.push('', ...results.map((r) => `- **${r.phase}**: ${r.what}`), '')
  return lines.join('\n')
}

const results: PhaseResult[] = []
for (const phase of phases) {
  if (selected && !selected.includes(phase.name)) continue
  results.push(await runPhase(durationOverride ? { ...phase, durationS: durationOverride } : phase))
  process.stdout.write(`${JSON.stringify(results.at(-1))}\n`)
}

const redis = createRedisClient(redisUrl, 'bench-queue-cleanup')
redis.on('error', () => {})
await redis.connect()
for await (const keys of redis.scanIterator({ MATCH: `bench:queue:${runId}:*`, COUNT: 500 })) {
  if (keys.length > 0) await redis.del(keys)
}
await redis.close()

const out = new URL('../results/', import.meta.url).pathname
mkdirSync(out, { recursive: true })
writeFileSync(
  `${out}queue.json`,
  `${JSON.stringify({ runAt: new Date().toISOString(), node: process.version, results }, null, 2)}\n`,
)
writeFileSync(`${out}queue.md`, markdown(results))
process.stdout.write(`\n${markdown(results)}\nwrote bench/results/queue.json and bench/results/queue.md\n`)
