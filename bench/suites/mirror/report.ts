/**
 * The mirror suite's report: bench/results/mirror[-quick].json (every figure) and .md (the tables), and the same
 * tables in docs/benchmarks.md between the `mirror-suite` markers (bench/report/write.ts keeps them there when it
 * regenerates the page).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { repoRoot } from '../../harness/processes.ts'
import type { BlastResult } from './blast.ts'
import type { FillResult, KillResult } from './fill.ts'
import type { LagResult } from './lag.ts'
import type { LossResult } from './loss.ts'
import type { MirrorBenchOptions } from './options.ts'

export interface MirrorBenchResult {
  at: string
  elapsedS: number
  options: Omit<MirrorBenchOptions, 'phases'> & { phases: string[] }
  machine: { cores: number; cpu: string; node: string; loadAverageAtStart: number[]; loadAverageAtEnd: number[] }
  fill?: FillResult
  blast?: BlastResult
  lag?: LagResult
  loss?: LossResult
  kill?: KillResult
  failures: Record<string, string>
  /** When each phase's figures were measured (they differ after a `--merge` run). */
  phaseRuns: Record<string, string>
}

export const MARKER_START = '<!-- mirror-suite -->'
export const MARKER_END = '<!-- /mirror-suite -->'

const pct = (share: number) => `${Number((share * 100).toFixed(2))} %`
const verdict = (pass: boolean | null) => (pass === null ? 'not measured' : pass ? '**met**' : '**missed**')

function goals(result: MirrorBenchResult): string[] {
  const on = result.blast?.systems.find((system) => system.system === 'bridge, mirror on')
  const rows: [string, string, string, boolean | null][] = [
    [
      'email blast: pages fully answered with 200 (mirror on)',
      '≥ 99.9 %',
      on ? pct(on.fullyAnsweredShare) : '—',
      on ? on.fullyAnsweredShare >= 0.999 : null,
    ],
    ['email blast: page latency p99 (mirror on)', '≤ 300 ms', on ? `${on.p99Ms} ms` : '—', on ? on.p99Ms <= 300 : null],
    [
      'email blast: upstream calls per page (mirror on)',
      '≤ 0.01',
      on ? on.upstreamCallsPerPage.toFixed(3) : '—',
      on ? on.upstreamCallsPerPage <= 0.01 : null,
    ],
    [
      'email blast: upstream 429s (mirror on)',
      '0',
      on ? String(on.upstream429) : '—',
      on ? on.upstream429 === 0 : null,
    ],
    [
      `time to a ready mirror, ${result.options.customers.toLocaleString('en')}-customer store, from empty`,
      '≤ 300 s',
      result.fill ? `${result.fill.timeToReadyS} s` : '—',
      result.fill ? result.fill.timeToReadyS <= 300 : null,
    ],
    [
      'Redis memory per mirrored customer (Σ MEMORY USAGE of the mirror keys)',
      '≤ 8 KB',
      result.fill ? `${(result.fill.memory.memoryUsagePerCustomerBytes / 1024).toFixed(2)} KB` : '—',
      result.fill ? result.fill.memory.memoryUsagePerCustomerBytes <= 8192 : null,
    ],
    [
      `lag, change in the simulator → visible on the bridge, p99 over ${result.lag?.changes ?? result.options.changes} changes`,
      '≤ 2,000 ms',
      result.lag ? `${result.lag.lagMs.p99} ms` : '—',
      result.lag ? result.lag.lagMs.p99 <= 2000 && result.lag.notSeen === 0 : null,
    ],
    [
      `${pct(result.options.dropShare)} of webhooks dropped for ${result.options.dropMinutes} min: every changed record correct within one reconciliation period (${result.options.reconcileSeconds} s) of the drop's end`,
      `≤ ${result.options.reconcileSeconds} s`,
      result.loss ? (result.loss.healedAfterS === null ? 'not healed' : `${result.loss.healedAfterS} s`) : '—',
      result.loss
        ? result.loss.healedAfterS !== null && result.loss.healedAfterS <= result.loss.reconcileSeconds
        : null,
    ],
    [
      'leader SIGKILLed mid-sync: the other replica finishes, every customer mirrored',
      '0 missing',
      result.kill ? `ready after ${result.kill.timeToReadyS} s, ${result.kill.customersMissing} missing` : '—',
      result.kill ? result.kill.atReady.state === 'ready' && result.kill.customersMissing === 0 : null,
    ],
  ]
  return [
    '| goal | target | measured | verdict |',
    '| --- | --- | --- | --- |',
    ...rows.map(([goal, target, measured, pass]) => `| ${goal} | ${target} | ${measured} | ${verdict(pass)} |`),
  ]
}

function statusList(statuses: Record<string, number>): string {
  return Object.entries(statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, count]) => `${status === '0' ? 'no answer' : status}: ${count}`)
    .join(', ')
}

export function markdown(result: MirrorBenchResult): string {
  const { options: o, fill, blast, lag, loss, kill } = result
  const command = `npm run bench -- --only mirror${o.profile === 'quick' ? ' -- --quick' : ''}`
  const lines = [
    `### Account mirror (${o.profile === 'quick' ? '**quick run: shrunk phases, not the issue’s figures**' : 'full run'}) — ${result.at}`,
    '',
    `Reproduce: \`npm run build && ${command}\` (${result.elapsedS} s). Simulator at Recharge's real budget (bucket 40, 2 calls/s), a store of ${o.customers.toLocaleString('en')} generated customers (SIM_SEED_CUSTOMERS) plus the seed's own, two bridge replicas (\`node dist/server.js\`, NODE_ENV=production) over one private redis-server, MIRROR_RECONCILE_SECONDS=${o.reconcileSeconds}. Machine: ${result.machine.cores} cores, ${result.machine.cpu}, Node ${result.machine.node}; load average ${result.machine.loadAverageAtStart.join(' / ')} at start, ${result.machine.loadAverageAtEnd.join(' / ')} at end. **The machine is shared**: other work ran on the same 2 cores during the run, and the load generator runs beside the servers, so latencies include their competition.`,
    '',
    ...goals(result),
    '',
    ...(Object.values(result.phaseRuns).some((at) => at !== result.at)
      ? [
          `Phases measured in separate runs with the same settings (\`--merge\`; docs/mirror.md says what changed between them): ${Object.entries(
            result.phaseRuns,
          )
            .map(([phase, at]) => `${phase} ${at.slice(0, 16).replace('T', ' ')} UTC`)
            .join(', ')}.`,
          '',
        ]
      : []),
  ]
  if (blast) {
    lines.push(
      `**The email blast.** ${blast.shoppersPerSystem.toLocaleString('en')} distinct shoppers per system open their account page, open-loop Poisson arrivals at ${blast.ratePerS} pages/s (2,000 in 5 minutes), in ${blast.slicesPerSystem} interleaved slices per system (on, off, proxy, on, …) of ${blast.shoppersPerSlice} shoppers each; no shopper is served twice by any system; ${blast.refillBetweenSlicesS} s between slices for the budget to refill. Latency and calls per page: median of the slices; pages, 429s: sums. A bridge page is a token minted by \`POST /v1/admin/customer-tokens\` then \`GET /v1/me\`, \`/v1/subscriptions\` and \`/v1/charges\` at once, round-robin over the two replicas; the plain proxy (@fastify/reply-from adding the token) has no tokens, so its page is the same three upstream reads at once: \`GET /customers/<id>\`, \`GET /subscriptions?customer_id=<id>\`, \`GET /charges?customer_id=<id>&status=queued\`. Upstream calls are the simulator's ledger over the slice (the mirror's own reconciliation reads and webhook registration checks left out). All four replicas share one Redis key prefix, so one budget book. Before the first slice, 40 page loads (shoppers of their own, no upstream calls) warm the mirrored pair's code up.`,
      '',
      '| system | pages fully answered with 200 | page p50 / p99 ms | upstream calls per page | upstream 429s | answers by status (every request of every page) |',
      '| --- | --- | --- | --- | --- | --- |',
      ...blast.systems.map(
        (s) =>
          `| ${s.system} | ${s.fullyAnswered} / ${s.pages} (${pct(s.fullyAnsweredShare)}) | ${s.p50Ms} / ${s.p99Ms} | ${s.upstreamCallsPerPage.toFixed(3)} | ${s.upstream429} | ${statusList(s.statuses)} |`,
      ),
      '',
      `Per slice (fully answered %, p99 ms, calls/page): ${blast.systems
        .map(
          (s) =>
            `${s.system} ${s.slices.map((slice) => `[${pct(slice.fullyAnsweredShare)}, ${slice.latencyMs.p99}, ${slice.upstreamCallsPerPage.toFixed(2)}]`).join(' ')}`,
        )
        .join('; ')}.`,
      '',
      ...blast.systems
        .filter((s) => Object.keys(s.refusalSamples).length > 0)
        .map(
          (s) =>
            `What a refused page was told (${s.system}): ${Object.values(s.refusalSamples)
              .map((sample) => `\`${sample.replaceAll('`', "'").replaceAll('\n', ' ')}\``)
              .join('; ')}`,
        ),
      '',
    )
  }
  if (fill) {
    lines.push(
      `**The fill.** From starting both replicas on an empty Redis to \`GET /v1/admin/mirror\` state=ready: ${fill.timeToReadyS} s, for ${fill.atReady.customers.toLocaleString('en')} customers, ${fill.atReady.subscriptions.toLocaleString('en')} subscriptions, ${fill.atReady.charges.toLocaleString('en')} upcoming charges (the store: ${fill.store.customers.toLocaleString('en')}, ${fill.store.subscriptions.toLocaleString('en')}, ${fill.store.upcomingCharges.toLocaleString('en')}). Upstream meanwhile: ${fill.upstream.lists} list pages, ${fill.upstream.webhookRegistration} webhook registration calls, ${fill.upstream.shopperPages} shopper reads, ${fill.upstream.other} other, ${fill.upstream.upstream429} 429s. Shoppers served during the fill (open-loop, ${fill.pagesDuringFill.ratePerS} pages/s, distinct shoppers, through Recharge while warming): ${fill.pagesDuringFill.pages === 0 ? 'none arrived before ready' : `${fill.pagesDuringFill.fullyAnswered} of ${fill.pagesDuringFill.pages} pages fully answered, p50 / p99 ${fill.pagesDuringFill.latencyMs.p50} / ${fill.pagesDuringFill.latencyMs.p99} ms (${statusList(fill.pagesDuringFill.statuses)})`}${
        Object.keys(fill.pagesDuringFill.refusalSamples).length > 0
          ? `; refusals: ${Object.values(fill.pagesDuringFill.refusalSamples)
              .map((sample) => `\`${sample.replaceAll('`', "'").replaceAll('\n', ' ')}\``)
              .join('; ')}`
          : ''
      }.`,
      '',
      `**Memory.** ${(fill.memory.memoryUsagePerCustomerBytes / 1024).toFixed(2)} KB per mirrored customer: the sum of \`MEMORY USAGE <key> SAMPLES 0\` over all ${fill.memory.mirrorKeys.toLocaleString('en')} keys under \`<prefix>:mirror:\` (records, indexes, owner keys, counts, sync state) divided by the customers held. \`INFO memory\` used_memory after ready minus before the replicas started, divided the same way: ${(fill.memory.usedMemoryDeltaPerCustomerBytes / 1024).toFixed(2)} KB (it also holds the replicas' other keys: budget, webhook queue, the shopper pages' cache entries).`,
      '',
    )
  }
  if (lag) {
    lines.push(
      `**Lag.** ${lag.changes} changes made in the simulator directly (\`PUT /subscriptions/<id>\` with a second token of the store, so none of the bridge's budget), one at a time, each a different customer's subscription; timed from just before the change is sent until the bridge's \`GET /v1/subscriptions/<id>\` shows it (polled every 20 ms, the two replicas in turn): p50 ${lag.lagMs.p50} ms, p90 ${lag.lagMs.p90} ms, p99 ${lag.lagMs.p99} ms, max ${lag.lagMs.max} ms; ${lag.notSeen} not seen within ${lag.timeoutMs / 1000} s.`,
      '',
    )
  }
  if (loss) {
    lines.push(
      `**Webhook loss.** The simulator dropped ${pct(loss.dropShare)} of webhook deliveries (its drop rule: decided per delivery, never retried) for ${loss.dropMinutes} min, while ${loss.changes} changes were made in it directly (${loss.byKind.subscription} subscription quantities, ${loss.byKind.customer} customer last names, ${loss.byKind.address} address first names; each a different record): ${loss.deliveriesDropped} of ${loss.deliveriesMatched} deliveries dropped. 5 s after the drop ended, ${loss.wrongAtDropEnd} changed records were still wrong on the bridge's shopper routes (compared with \`/__sim/state\`); all ${loss.changes} agreed ${loss.healedAfterS === null ? '**never, within three periods**' : `${loss.healedAfterS} s after the drop ended`} (reconciliation period MIRROR_RECONCILE_SECONDS=${loss.reconcileSeconds}; checked every 2 s).${loss.stillWrong.length > 0 ? ` Still wrong: ${loss.stillWrong.map((w) => `${w.kind} ${w.recordId} (bridge ${JSON.stringify(w.bridge)}, store ${JSON.stringify(w.store)})`).join(', ')}.` : ''}`,
      '',
    )
  }
  if (kill) {
    lines.push(
      `**Leader killed mid-sync.** A fresh fill under another key prefix: the first replica started alone and took the sync lease, then the second; the lease holder was SIGKILLed ${kill.killedAtS} s in, its checkpoint at the \`${kill.checkpointAtKill.list ?? '?'}\` list (${kill.statusAtKill.customers.toLocaleString('en')} customers and ${kill.statusAtKill.subscriptions.toLocaleString('en')} subscriptions held). The other replica took the lease over when it expired (${kill.leaseBefore !== kill.leaseAfter ? 'the lease changed hands' : '**the lease did not change hands**'}) and went on from the checkpoint: ready ${kill.timeToReadyS} s after the start, ${kill.atReady.customers.toLocaleString('en')} customers, ${kill.atReady.subscriptions.toLocaleString('en')} subscriptions, ${kill.atReady.charges.toLocaleString('en')} upcoming charges (store: ${kill.store.customers.toLocaleString('en')}, ${kill.store.subscriptions.toLocaleString('en')}, ${kill.store.upcomingCharges.toLocaleString('en')}); customers of the store without a customer record in the mirror: ${kill.customersMissing}.`,
      '',
    )
  }
  for (const [phase, error] of Object.entries(result.failures)) {
    lines.push(`**The ${phase} phase failed in this run**: \`${error.split('\n')[0]}\``, '')
  }
  return lines.join('\n')
}

function label(result: MirrorBenchResult): string {
  return result.options.profile === 'quick' ? 'mirror-quick' : 'mirror'
}

/** The previous run's figures of the phases this run did not measure (`--merge`). */
export function mergePrevious(result: MirrorBenchResult, ran: ReadonlySet<string>): void {
  let previous: MirrorBenchResult
  try {
    previous = JSON.parse(readFileSync(`${repoRoot}bench/results/${label(result)}.json`, 'utf8')) as MirrorBenchResult
  } catch {
    return
  }
  for (const phase of ['blast', 'lag', 'loss', 'kill'] as const) {
    if (ran.has(phase) || previous[phase] === undefined) continue
    ;(result as unknown as Record<string, unknown>)[phase] = previous[phase]
    result.phaseRuns[phase] = previous.phaseRuns?.[phase] ?? previous.at
  }
}

export function writeMirrorReport(result: MirrorBenchResult): string[] {
  const body = markdown(result)
  const json = `${repoRoot}bench/results/${label(result)}.json`
  const md = `${repoRoot}bench/results/${label(result)}.md`
  writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`)
  writeFileSync(md, `# Account mirror benchmark\n\n${body}`)
  const docs = `${repoRoot}docs/benchmarks.md`
  writeFileSync(docs, withMirrorSection(readFileSync(docs, 'utf8'), body))
  return [json, md, docs]
}

function sectionOf(body: string): string {
  return `${MARKER_START}\n## Account mirror: the email blast\n\n${body.trim()}\n${MARKER_END}`
}

/**
 * The mirror section of docs/benchmarks.md when bench/report/write.ts regenerates the page: the latest full run's
 * tables (bench/results/mirror.md), else the latest quick run's.
 */
export function mirrorSection(): string[] {
  for (const file of ['mirror.md', 'mirror-quick.md']) {
    try {
      const text = readFileSync(`${repoRoot}bench/results/${file}`, 'utf8')
      return [sectionOf(text.slice(text.indexOf('\n') + 1)), '']
    } catch {
      // not run yet
    }
  }
  return []
}

/** The page with the mirror section replaced (or added before the per-capability list). */
export function withMirrorSection(page: string, body: string): string {
  const section = sectionOf(body)
  const start = page.indexOf(MARKER_START)
  const end = page.indexOf(MARKER_END)
  if (start !== -1 && end > start) return `${page.slice(0, start)}${section}${page.slice(end + MARKER_END.length)}`
  const anchor = page.indexOf('## Per-capability benchmarks')
  if (anchor === -1) return `${page.trimEnd()}\n\n${section}\n`
  return `${page.slice(0, anchor)}${section}\n\n${page.slice(anchor)}`
}

export function machine(loadAtStart: number[]): MirrorBenchResult['machine'] {
  let cpu = cpus()[0]?.model ?? '?'
  try {
    cpu = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu
  } catch {
    // the os module's name
  }
  const round = (values: number[]) => values.map((value) => Number(value.toFixed(2)))
  return {
    cores: cpus().length,
    cpu,
    node: process.version,
    loadAverageAtStart: round(loadAtStart),
    loadAverageAtEnd: round(loadavg()),
  }
}
