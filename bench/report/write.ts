/**
 * Results of a run: bench/results/<date>-<profile>.json (every sample) and .md, and for the quick and full profiles
 * docs/benchmarks.md with docs/benchmarks.svg. Smoke runs write to the temp directory only.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { repoRoot } from '../harness/processes.ts'
import type { GoalResult, Profile } from '../harness/types.ts'
import { type BudgetResult, budgetSection } from '../suites/budget.ts'
import type { CacheResult } from '../suites/cache.ts'
import { mirrorSection } from '../suites/mirror/report.ts'
import type { QueueResult } from '../suites/queue.ts'
import type { FixedRateResult, ThroughputResult } from '../suites/throughput.ts'
import type { WebhooksResult } from '../suites/webhooks.ts'
import { type Bar, barChart } from './svg.ts'

export interface SuiteResults {
  throughput?: ThroughputResult
  webhooks?: WebhooksResult
  queue?: QueueResult
  cache?: CacheResult
  budget?: BudgetResult
}

export interface MachineInfo {
  cores: number
  cpu: string
  node: string
  redis: string
  loadAverageAtStart: number[]
  loadAverageAtEnd: number[]
  otherLoad: string
}

export function machineInfo(loadAverageAtStart: number[], note: string | undefined): MachineInfo {
  const cpu = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? '?'
  let redis = '?'
  try {
    redis = /v=(\S+)/.exec(execFileSync('/usr/bin/redis-server', ['--version']).toString())?.[1] ?? '?'
  } catch {
    // reported as '?'
  }
  const round = (values: number[]) => values.map((value) => Number(value.toFixed(2)))
  const start = round(loadAverageAtStart)
  return {
    cores: cpus().length,
    cpu,
    node: process.version,
    redis,
    loadAverageAtStart: start,
    loadAverageAtEnd: round(loadavg()),
    otherLoad:
      note ??
      ((start[0] ?? 0) > 0.5
        ? `other processes were using the CPU when the run started (1-min load average ${start[0]} on ${cpus().length} cores)`
        : 'no significant other load when the run started'),
  }
}

const fmt = (value: number | null | undefined, digits = 2) =>
  value === null || value === undefined || Number.isNaN(value) ? '—' : Number(value.toFixed(digits)).toString()
const pct = (value: number) => `${(value * 100).toFixed(1)} %`

function goalRows(goals: GoalResult[]): string[] {
  return goals.map((goal) => {
    const verdict = goal.pass === null ? 'not measured' : goal.pass ? '**met**' : '**missed**'
    const target = `${goal.comparison === '>=' ? '≥' : '≤'} ${goal.target} ${goal.unit}`
    return `| ${goal.id} | ${goal.goal} | ${fmt(goal.value, 3)} ${goal.unit} | ${target} | ${verdict}${goal.note ? ` — ${goal.note}` : ''} |`
  })
}

export function chartBars(results: SuiteResults): Bar[] {
  const bars: Bar[] = []
  const ratios = results.throughput?.ratios
  if (ratios) {
    const add = (label: string, key: string, target?: number) => {
      const value = ratios[key]
      if (value !== undefined) bars.push({ label, value, ...(target !== undefined ? { target } : {}) })
    }
    add('catalog route, L1 hit ÷ hello-world', 'l1-hit ÷ hello', 0.75)
    add('catalog route, Redis hit ÷ hello-world', 'l2-hit ÷ hello', 0.4)
    add('uncached route ÷ reply-from (same call)', 'uncached ÷ reply-from-customer', 1)
    add('bridge plugin-stack floor (/healthz) ÷ hello', 'bridge-floor ÷ hello')
    add('reply-from proxy ÷ hello-world', 'reply-from ÷ hello')
    add('simulator direct ÷ hello-world', 'simulator ÷ hello')
  }
  for (const phase of results.queue?.phases ?? []) {
    if (phase.phase === 'compressed-background-saturating') continue
    bars.push({ label: `queue budget use (${phase.phase})`, value: phase.budgetUse, target: 0.95 })
  }
  const bridges = results.queue?.bridges
  if (bridges) bars.push({ label: 'queue budget use (3 bridge servers, 10×)', value: bridges.budgetUse, target: 0.95 })
  return bars
}

/** How far the machine's own speed moved during the run, read off the load generator's cost per hello request. */
function machineSpeedLine(samples: number[]): string {
  const slowest = Math.max(...samples)
  const fastest = Math.min(...samples)
  return `Machine steadiness: the load generator's own CPU per hello request, per round [${samples.map((v) => fmt(v, 1)).join(', ')}] µs, the slowest round ${fmt(slowest / fastest, 2)} × the fastest. It runs the same code on the same work every round, so this spread is the host's (neighbours sharing its cores and caches); per-round ratios are only as steady as the machine was between two adjacent modes.`
}

function throughputSection(result: ThroughputResult, profile: Profile): string[] {
  const baselineOf: Record<string, string> = {
    'l1-hit': 'hello',
    'l2-hit': 'hello',
    'reply-from': 'hello',
    simulator: 'hello',
    'bridge-floor': 'hello',
    uncached: 'reply-from-customer',
  }
  const ratioKey = (name: string) => `${name} ÷ ${baselineOf[name]}`
  return [
    '## Throughput and latency',
    '',
    `autocannon in the harness process, c=${profile.connections}, p=1, ${profile.jitWarmupS} s of load on every mode before round 1, then ${profile.warmupS} s warm-up + ${profile.measureS} s per mode, ${profile.rounds} interleaved rounds (every mode once per round, same order; the uncached route and its reply-from baseline on a pair of processes of their own each round). Medians over rounds; ratios computed per round against the baseline of the same round, then the median. Every body verified (a wrong body counts as a mismatch).`,
    '',
    '| mode | what | req/s | p50 / p99 ms | ratio (per-round median) | CPU µs / request | requests per CPU-second vs baseline | non-2xx / mismatches / errors |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...result.modes.map((mode) => {
      const key = ratioKey(mode.name)
      const base = baselineOf[mode.name]
      const ratio = base ? `${fmt(result.ratios[key], 3)} × ${base}` : 'baseline'
      const cost = result.costRatios?.[key]
      const costCell = base ? (cost === undefined ? '—' : `${fmt(cost, 3)} × ${base}`) : 'baseline'
      return `| ${mode.name} | ${mode.what} | ${mode.rps} | ${mode.p50} / ${mode.p99} | ${ratio} | ${mode.cpuUsPerRequest ?? '—'} | ${costCell} | ${mode.non2xx} / ${mode.mismatches} / ${mode.errors} |`
    }),
    '',
    `Per-round ratios: ${Object.entries(result.ratioSamples)
      .map(([name, values]) => `${name} [${values.map((v) => fmt(v, 3)).join(', ')}]`)
      .join('; ')}.`,
    '',
    "CPU per request is the user + system time of the mode's own processes (/proc) during the measured seconds, divided by the requests answered: the bridge (plus Redis where the mode uses it: the Redis hit and the uncached route), the baseline server, or the proxy. The upstream's work is the same on both sides of a comparison and is left out. Requests per CPU-second against the baseline is the throughput ratio the two would have with a core each; it barely moves when neighbours steal CPU, while req/s of one sample does.",
    ...(result.costRatioSamples
      ? [
          '',
          `Per-round requests per CPU-second: ${Object.entries(result.costRatioSamples)
            .map(([name, values]) => `${name} [${values.map((v) => fmt(v, 3)).join(', ')}]`)
            .join('; ')}.`,
        ]
      : []),
    '',
    ...(result.machineSpeedSamples && result.machineSpeedSamples.length > 0
      ? [machineSpeedLine(result.machineSpeedSamples), '']
      : []),
    ...(result.fixedRate ? fixedRateLines(result.fixedRate) : []),
    `p99 − hello p99 (per-round median): L1 hit ${fmt(result.l1P99MinusHello)} ms, Redis hit ${fmt(result.l2P99MinusHello)} ms. Tier check from the replicas' metrics: ${result.tierCheck.l1Hits} L1 hits on A, ${result.tierCheck.l2Hits} Redis hits on B. Upstream calls per uncached request (requests the simulator received during the mode ÷ requests answered): ${result.upstreamCallsPerUncachedRequest} (slightly above 1: requests still in flight when a run stops reach the upstream but are not counted by autocannon).`,
    '',
  ]
}

/** Older result files have no fixed-rate comparison; --render still renders them. */
function fixedRateLines(result: FixedRateResult): string[] {
  return [
    `Added latency of the uncached route: reply-from and the bridge at a fixed ${result.rate} req/s (coordinated-omission corrected, c=50), interleaved the same way; medians over rounds.`,
    '',
    '| server at a fixed rate | p50 ms | p90 ms | p99 ms |',
    '| --- | --- | --- | --- |',
    `| reply-from → simulator GET /customers/:id | ${result.proxy.p50} | ${result.proxy.p90} | ${result.proxy.p99} |`,
    `| bridge GET /v1/portal/url (auth + queue + the same upstream call) | ${result.uncached.p50} | ${result.uncached.p90} | ${result.uncached.p99} |`,
    '',
    `Bridge p50 − reply-from p50 per round: ${result.addedP50Samples.map((v) => fmt(v)).join(', ')} ms; ${result.failures} requests without the expected answer.`,
    '',
  ]
}

function webhooksSection(result: WebhooksResult): string[] {
  const row = (name: string, s: WebhooksResult['bridge']) =>
    `| ${name} | ${s.requests} | ${s.p50} | ${s.p90} | ${s.p99} | ${s.max} | ${s.non2xx} | ${s.errors + s.timeouts} |`
  return [
    '## Webhook acknowledgement',
    '',
    `${result.ratePerS} signed deliveries/s for ${result.durationS} s (fixed rate, coordinated-omission corrected), ${result.connections} connections; each delivery distinct; the bridge verifies the signature, appends to the Redis stream and answers while its consumers process.`,
    '',
    '| server | requests | p50 ms | p90 ms | p99 ms | max ms | non-2xx | errors |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    row('bare Fastify JSON POST (baseline)', result.baseline),
    row('bridge POST /v1/webhooks/recharge', result.bridge),
    '',
  ]
}

function queueSection(result: QueueResult, profile: Profile): string[] {
  return [
    '## Shared rate-limit queue',
    '',
    `${result.replicas} replica processes (bench/harness/replica.ts: the real client and queue) share one budget through Redis against the simulator's exact leaky bucket.${profile.name === 'quick' ? ' **Quick profile: phases shortened** (the full-length figures, 60 s + 30 s + 60 s at the real 2/s, come from `npm run bench -- --full` or `npm run bench -- --only queue-phases`).' : ''}`,
    '',
    '| phase | duration | upstream 429s | 2xx in window / (bucket + rate×T) | budget use | shares r1/r2/r3 | max share deviation (÷ offered share) | interactive wait p50 / p95 / p99 ms | rejected at admission (interactive / background) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...result.phases.map(
      (p) =>
        `| ${p.phase} | ${p.durationS} s | ${p.upstream429} | ${p.upstreamOkInWindow} / ${p.budgetCap} | ${pct(p.budgetUse)} | ${p.sharePerReplica.map(pct).join(' / ')} | ${pct(p.maxShareDeviation)} | ${p.interactiveWaitMs.p50} / ${p.interactiveWaitMs.p95} / ${p.interactiveWaitMs.p99} | ${p.rejectedAtAdmission.interactive} / ${p.rejectedAtAdmission.background} |`,
    ),
    '',
    ...result.phases.map((p) => `- **${p.phase}**: ${p.what}`),
    '',
    "Max share deviation: the worst replica's share of the admitted calls against its share of the calls offered to it (every replica is offered the same rate by its own Poisson process, whose counts differ by a few per cent). Q3 pools the counts of the open-loop oversubscribed phases (a fair queue's shares are a random draw that varies by √(2/n) for n admitted calls: 11 % for the 160 calls of a minute at the real 2/s, too coarse for ±15 % on its own); in the background-saturating phase the background load is closed-loop, so its figure is shown but not judged.",
    '',
    ...(result.bridges ? bridgesRows(result.bridges) : []),
    'Under 10× oversubscription the interactive waits sit near the admission bound by design: the excess is refused at admission (the "rejected" column; a client of the bridge gets 503 UPSTREAM_BUSY with Retry-After), never sent upstream.',
    '',
  ]
}

function bridgesRows(b: NonNullable<QueueResult['bridges']>): string[] {
  return [
    `End to end through the shipped server — ${b.what}, ${b.durationS} s:`,
    '',
    '| upstream 429s | 2xx upstream in window / (bucket + rate×T) | budget use | client answers | share of 200s per replica | requests per replica | slots re-booked after a stall, per replica | max share deviation (÷ offered share) | latency p50 / p99 ms (worst replica) | socket errors / wrong bodies |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    `| ${b.upstream429} | ${b.upstreamOkInWindow} / ${b.budgetCap} | ${pct(b.budgetUse)} | ${Object.entries(
      b.clientStatuses,
    )
      .map(([status, count]) => `${status}: ${count}`)
      .join(
        ', ',
      )} | ${b.sharePerReplica.map(pct).join(' / ')} | ${b.answersPerReplica.join(' / ')} | ${b.lateRebooksPerReplica.join(' / ')} | ${pct(b.maxShareDeviation)} | ${b.latencyMs.p50} / ${b.latencyMs.p99} | ${b.errors} / ${b.mismatches} |`,
    '',
    `What a refused client is told: ${Object.entries(b.refusalSamples)
      .map(([status, body]) => `${status} \`${body}\``)
      .join('; ')}`,
    '',
  ]
}

function cacheSection(result: CacheResult): string[] {
  const lines = [
    '## Cache under stress',
    '',
    `**Stampede** — ${result.stampede.replicas} replicas × ${result.stampede.perReplica} concurrent requests for a catalog page nobody had asked for (a cold key in every L1 and in Redis); upstream calls counted in the simulator ledger:`,
    '',
    '| page size (cold key) | requests | 200s | distinct bodies | upstream calls | arrival of each call (ms after the first) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...result.stampede.trials.map(
      (t) =>
        `| ${t.pageLimit} | ${t.requests} | ${t.ok} | ${t.distinctBodies} | ${t.upstreamCalls} | ${t.upstreamCallOffsetsMs.join(', ')} |`,
    ),
    '',
    'Without cross-replica single-flight the same burst costs one call per replica (per-process dedupe) or one per request (none).',
    '',
  ]
  const expiry = (name: string, s: CacheResult['swr']) =>
    s
      ? `| ${name} | ${s.entryAgeS} s | ${s.requests} | ${s.ok} | ${Object.entries(s.xCache)
          .map(([k, v]) => `${k} ${v}`)
          .join(
            ', ',
          )} | ${s.upstreamCalls} (${s.upstreamFailures} failed) | ${s.p99} / ${s.max} | ${s.errors + s.timeouts} / ${s.mismatches} |`
      : `| ${name} | — | not measured | | | | | |`
  lines.push(
    '**SWR and stale-if-error** — 3 replicas × 10 connections for 2 s on a product whose entry is past its 60 s TTL (inside the stale-while-revalidate window); for stale-if-error the simulator answers 503 to every read of that product for the whole run:',
    '',
    '| scenario | entry age | requests | 200s | X-Cache | upstream product reads | p99 / max ms | errors / mismatches |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    expiry('SWR (upstream healthy)', result.swr),
    expiry('stale-if-error (upstream 503)', result.staleIfError),
    '',
  )
  if (result.invalidation.length > 0) {
    lines.push(
      '**Invalidation after a webhook** — the product is cached on all replicas, changed in the simulator, and a signed `product/updated` delivery is sent to one replica (a different one each trial); each replica is polled every 10 ms until it serves the change:',
      '',
      '| trial | webhook sent to | webhook ack ms | A (L1) ms after ack | B (Redis only) ms after ack | C (L1) ms after ack | old answers meanwhile (X-Cache) A / B / C |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...result.invalidation.map(
        (t, index) =>
          `| ${index + 1} | ${t.receiver} | ${t.ackMs} | ${t.servedNewAfterAckMs.map((ms) => (ms === null ? 'never (10 s)' : String(ms))).join(' | ')} | ${t.oldAnswers
            .map(
              (states) =>
                Object.entries(states)
                  .map(([state, count]) => `${state} ${count}`)
                  .join(', ') || '—',
            )
            .join(' / ')} |`,
      ),
      '',
    )
  }
  const kill = result.redisKill
  lines.push(
    `**Redis killed under load** — closed-loop load on replica ${kill.bridge}; the harness's redis-server is SIGKILLed at ${kill.killAtS} s and restarted (empty) at ${kill.restartAtS} s of a ${kill.loadS} s run:`,
    '',
    `- ${kill.requests} requests, ${kill.non2xx} non-2xx (${kill.non2xxDuringOutage} during the outage, ${kill.non2xxAfterRestart} after the restart), ${kill.errors} socket errors, ${kill.timeouts} timeouts, ${kill.mismatches} wrong bodies`,
    `- p99 ${kill.p99} ms, max latency ${kill.maxLatencyMs} ms`,
    `- /readyz answered 200 again ${kill.readyAfterRestartMs ?? 'never'} ms after the restart`,
    `- responses per second (non-2xx): ${kill.perSecond.map((s) => `${s.second}s ${s.responses}${s.non2xx ? ` (${s.non2xx})` : ''}`).join(' · ')}`,
    '',
  )
  return lines
}

export async function writeReport(
  profile: Profile,
  results: SuiteResults,
  machine: MachineInfo,
  elapsedMs: number,
  failures: Record<string, string> = {},
  at: Date = new Date(),
  /** Set by `--redis`: a topology comparison, written beside the published results, never over them. */
  redisKind?: 'single' | 'cluster',
): Promise<string[]> {
  const date = at.toISOString().slice(0, 10)
  const goals = [
    ...(results.throughput?.goals ?? []),
    ...(results.queue?.goals ?? []),
    ...(results.cache?.goals ?? []),
    ...(results.webhooks?.goals ?? []),
  ]
  const command = redisKind
    ? `npm run bench -- --only queue,cache --redis ${redisKind}`
    : profile.name === 'full'
      ? 'npm run bench -- --full'
      : 'npm run bench'
  const json = {
    at: at.toISOString(),
    profile,
    machine,
    elapsedS: Math.round(elapsedMs / 1000),
    goals,
    failures,
    results,
  }
  const bars = chartBars(results)
  const svg = barChart(
    'recharge-bridge vs baselines, same machine, same run',
    `${profile.name} profile · ${at.toISOString().slice(0, 16).replace('T', ' ')} UTC · medians of ${profile.rounds} interleaved rounds`,
    bars,
  )
  const body = [
    `Run ${at.toISOString()} · profile **${profile.name}** (${Math.round(elapsedMs / 1000)} s) · reproduce: \`npm run build && ${command}\``,
    '',
    `Machine: ${machine.cores} cores (\`nproc\`), ${machine.cpu}, Node ${machine.node}, Redis ${machine.redis}; load average ${machine.loadAverageAtStart.join(' / ')} at start, ${machine.loadAverageAtEnd.join(' / ')} at end. ${machine.otherLoad}. The load generator (autocannon) runs on the same cores as the servers, so every figure is a ratio against a baseline measured in the same run; absolute req/s are only comparable within one run.`,
    '',
    '## Goals',
    '',
    '| id | goal | measured | target | verdict |',
    '| --- | --- | --- | --- | --- |',
    ...goalRows(goals),
    '',
    ...Object.entries(failures).flatMap(([suite, error]) => [
      `**The ${suite} suite failed in this run** (its goals are missing above): \`${error.split('\n')[0]}\``,
      '',
    ]),
    ...(results.throughput ? throughputSection(results.throughput, profile) : []),
    ...(results.queue ? queueSection(results.queue, profile) : []),
    ...(results.cache ? cacheSection(results.cache) : []),
    ...(results.webhooks ? webhooksSection(results.webhooks) : []),
    ...(results.budget ? budgetSection(results.budget) : []),
  ]

  const written: string[] = []
  const resultsDir = profile.name === 'smoke' ? join(tmpdir(), 'recharge-bridge-bench') : `${repoRoot}bench/results`
  mkdirSync(resultsDir, { recursive: true })
  // A topology comparison (--redis) keeps one file per topology, like the per-capability suites.
  const base = join(resultsDir, redisKind ? `redis-${redisKind}` : `${date}-${profile.name}`)
  writeFileSync(`${base}.json`, `${JSON.stringify({ ...json, redis: redisKind ?? 'single' }, null, 2)}\n`)
  writeFileSync(
    `${base}.md`,
    `# Benchmark results (${profile.name}${redisKind ? `, Redis ${redisKind}` : ''})\n\n${body.join('\n')}`,
  )
  written.push(`${base}.json`, `${base}.md`)
  if (redisKind) return written
  const docsDir = profile.name === 'smoke' ? resultsDir : `${repoRoot}docs`
  writeFileSync(join(docsDir, 'benchmarks.svg'), svg)
  writeFileSync(join(docsDir, 'benchmarks.md'), docsPage(body, command, `bench/results/${date}-${profile.name}.json`))
  written.push(join(docsDir, 'benchmarks.md'), join(docsDir, 'benchmarks.svg'))
  return written
}

/** Hand-written reading of the latest published run (bench/report/notes.md), kept next to the generator. */
function notes(): string[] {
  try {
    return [readFileSync(`${repoRoot}bench/report/notes.md`, 'utf8').trim(), '']
  } catch {
    return []
  }
}

/** The per-capability benchmarks' own latest results, linked with the time each was run. */
function capabilityResults(): string[] {
  const files: [string, string, string][] = [
    [
      'bench/results/steady.md',
      'npm run bench -- --only steady',
      'uncached route vs reply-from, 3 processes a side, alone',
    ],
    [
      'bench/results/interference.md',
      'npm run bench -- --only interference',
      'the same pair, in rounds with and without load on a neighbour bridge first',
    ],
    [
      'bench/results/queue.md',
      'npm run bench -- --only queue-phases',
      'queue, full-length phases incl. the real 2/s budget',
    ],
    ['bench/results/cache.md', 'npm run bench -- --only cache-limits', 'cache tiers in-process, incl. the miss path'],
    [
      'bench/results/catalog.md',
      'npm run bench -- --only catalog-sync',
      '1,000-product catalog sync vs the rate-limit floor',
    ],
    [
      'bench/results/catalog-compressed.md',
      'npm run bench -- --only catalog-sync -- --compressed',
      'the same, time-compressed',
    ],
    ['bench/results/webhooks-ack.md', 'npm run bench -- --only webhooks-ack', 'webhook ack latency, in-process app'],
    [
      'bench/results/import.md',
      'npm run bench -- --only import',
      'importing paid orders at the real budget, shoppers reading meanwhile',
    ],
    [
      'bench/results/redis-single.md',
      'npm run bench -- --only queue,cache --redis single',
      'queue and cache suites on one Redis, the comparison point of the cluster run',
    ],
    [
      'bench/results/redis-cluster.md',
      'npm run bench -- --only queue,cache --redis cluster',
      'queue and cache suites on a 3-primary, 3-replica Redis Cluster (docs/redis.md)',
    ],
    [
      'bench/results/mirror.md',
      'npm run bench -- --only mirror',
      'account mirror: fill, email blast vs mirror off and a plain proxy, lag, webhook loss, leader killed',
    ],
  ]
  const rows = files.flatMap(([file, command, what]) => {
    try {
      const text = readFileSync(`${repoRoot}${file}`, 'utf8')
      const at = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.exec(text)?.[0]?.replace('T', ' ') ?? '?'
      return [`| [${file}](../${file}) | ${what} | \`${command}\` | ${at} |`]
    } catch {
      return []
    }
  })
  if (rows.length === 0) return []
  return [
    '## Per-capability benchmarks',
    '',
    'Each capability keeps a deeper suite, run alone with `--only <suite>` (not by a plain `npm run bench`); their latest results:',
    '',
    '| results | what | command | run at (UTC) |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ]
}

/** The import suite's latest table (bench/results/import.md), as its own section: its figures are asked for by name. */
function importResults(): string[] {
  try {
    const text = readFileSync(`${repoRoot}bench/results/import.md`, 'utf8').trim()
    return [
      text.replace(
        /^# Import at Recharge's real budget \(([^)]+)\)/,
        "## Import\n\nImport at Recharge's real budget, run at $1.",
      ),
      '',
    ]
  } catch {
    return []
  }
}

function docsPage(body: string[], command: string, resultsFile: string): string {
  return [
    '# Benchmarks',
    '',
    'How recharge-bridge compares with what a merchant would otherwise deploy — a bare Fastify server and a plain',
    '`@fastify/reply-from` proxy that adds the Recharge token — measured side by side on the same machine in the same',
    'run, and what happens when things break. Generated by `bench/run.ts`; do not edit by hand.',
    '',
    '![Ratios against the baselines of the same run, with targets](benchmarks.svg)',
    '',
    ...body,
    ...notes(),
    ...mirrorSection(),
    ...capabilityResults(),
    ...importResults(),
    '## How it is measured',
    '',
    `\`${command}\` (after \`npm run build\`; the harness rebuilds \`dist/\` itself when it is older than \`src/\`) starts, as children of one process:`,
    '',
    '- a private `redis-server` on a free port (`--save "" --appendonly no`), which the cache suite kills and restarts;',
    '- the simulator (`node dist/simulator/server.js`) with an effectively unlimited bucket, so throughput measures the bridge and not the budget (the queue suite starts its own simulators with the real bucket, 40 calls, at 20/s and 2/s);',
    '- three bridge replicas exactly as users run them: `node dist/server.js`, `NODE_ENV=production`, `LOG_LEVEL=warn`, configured by environment only — A and C with the default L1, B with `CACHE_L1_MAX_BYTES=0` (every cached read goes to Redis) — and, for the uncached route, one replica per round (C, then C2, C3…) that serves nothing else;',
    "- the baselines, each its own process: bare Fastify answering the catalog product's exact JSON from memory (pre-serialised, the strictest floor), and a `@fastify/reply-from` proxy to the simulator that adds the token header (one for the catalog product, and one per round for the uncached route's comparison).",
    '',
    'Choices that matter for honesty:',
    '',
    '- **The hello-world baseline sends the same bytes** as the cached catalog route (same shape and size), from a string, so the ratio isolates what the bridge adds: routing, security headers, CORS, request ids, metrics, the cache lookup, ETag.',
    "- **The uncached route is `GET /v1/portal/url`.** Catalog and shopper reads are all cached, and a cache bypass would measure code users never run. The portal URL is uncached by design (the customer hash it carries authenticates the shopper, so it is read fresh from Recharge every time — the simulator's request count confirms one upstream call per request). Each request pays customer-token verification, the identity mapping (cached), a reservation in the Redis-shared queue, one upstream `GET /customers/:id`, lenient parsing and response validation; its baseline, reply-from, forwards the same `GET /customers/:id` and returns the whole customer (a larger body than our `{url}`).",
    '- Interleaved rounds (A B C … A B C …) so drifting background load hits every mode alike; medians over rounds; per-round ratios published.',
    '- `verifyBody`/`expectBody` on every run: a fast wrong answer counts as an error.',
    '',
    '## Not measured here',
    '',
    '- **Latency at a fixed 5,000 req/s (P4).** The cached routes are measured closed-loop only, and the fixed-rate comparison (P5b) runs at 1,000 req/s: on 2 shared cores the load generator cannot hold a fixed high rate while the servers run beside it.',
    "- **Queue admission latency, an external consumer burning the bucket, the limiter while Redis is down (Q5–Q7).** Covered as behaviour by the queue's integration tests (e.g. the client keeps serving with Redis killed and shares the budget again after it returns), not timed here.",
    '- **Faults, bad input and shutdown (R1–R4, S1–S3).** These are behaviour, not speed, and run as tests in CI: `test/integration/resilience.test.ts` (TCP fault proxy between the bridge and the simulator and Redis: latency, reset, hang, slice, byte limits), `test/integration/fuzz.test.ts` (fast-check over every OpenAPI route), `test/e2e/server-process.test.ts` and `test/e2e/sigterm-under-load.test.ts` (SIGTERM with 20 keep-alive clients in flight: every accepted request answered 200, later ones 503 or refused, exit 0 within the grace period).',
    '- **The real 2/s budget in the quick profile.** `--full` runs it (60 s); the quick profile runs the time-compressed phases only, shortened.',
    '- **CPU pinning.** `taskset` was not used: the machine is shared, so pinning would not isolate anything.',
    '',
    `Every sample is in \`${resultsFile}\`. The per-capability suites (\`--only cache-limits\`, \`queue-phases\`, \`webhooks-ack\`, \`catalog-sync\`, \`steady\`, \`interference\`) go deeper on one capability each.`,
    '',
  ].join('\n')
}
