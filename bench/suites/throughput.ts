/**
 * Throughput and latency, side by side with the baselines, in interleaved rounds (every mode once per round, in the
 * same order, then the next round), closed loop at c connections, p=1. Ratios are computed per round against the
 * baseline of the same round, then the median over rounds is reported.
 *
 * Cached route: GET /v1/catalog/products/:id — L1 hit on bridge A, L2 hit on bridge B (CACHE_L1_MAX_BYTES=0).
 * Uncached route: GET /v1/portal/url — the customer hash authenticates the hosted portal, so the bridge reads the
 * customer from Recharge on every call by design (never cached). Every request pays customer-token verification
 * (HS256), the identity mapping (cached), a reservation in the shared queue (Redis GCRA), one upstream
 * GET /customers/:id, lenient parsing and response-schema validation. Its baseline is reply-from forwarding the same
 * upstream call (GET /customers/:id) with the token added: same upstream work, none of the rest. Both sides run on
 * processes that serve no other mode (a process that has just answered another mode's 65,000 req/s still collects
 * that garbage in the next mode's seconds, which measured 2–5 µs per uncached request), a pair of its own each round
 * (setup.ts `uncachedInstances` says why).
 *
 * Added latency of the uncached route: the same two modes at a fixed offered rate well inside both servers' capacity
 * (autocannon corrects for coordinated omission), interleaved the same way. At saturation a closed loop measures
 * queueing inside the slower server, not what one call costs a shopper; at a steady rate the difference of the
 * medians is the time the bridge adds to an uncached call.
 */

import { cpuMicrosOf } from '../harness/cpu.ts'
import { type LoadSample, type LoadTarget, median, runLoad } from '../harness/load.ts'
import type { GoalResult, RunContext } from '../harness/types.ts'

interface Mode {
  name: string
  what: string
  /** Where the mode's load goes: round r uses instance (r - 1) mod length. */
  instances: ModeInstance[]
}

interface ModeInstance {
  target: LoadTarget
  /** The processes doing this mode's own work, whose CPU time is its cost (the upstream's is the same for both sides). */
  servers: number[]
}

export interface ModeSummary {
  name: string
  what: string
  rps: number
  p50: number
  p99: number
  non2xx: number
  mismatches: number
  errors: number
  /** Median CPU µs per request of the mode's own processes (null where /proc cannot be read). */
  cpuUsPerRequest: number | null
}

export interface ThroughputResult {
  modes: ModeSummary[]
  ratios: Record<string, number>
  /** Per-round ratios, so the spread is published with the median. */
  ratioSamples: Record<string, number[]>
  /** Baseline CPU per request ÷ the mode's, per round then median: the throughput ratio if both had a core each. */
  costRatios: Record<string, number>
  costRatioSamples: Record<string, number[]>
  l1P99MinusHello: number
  l2P99MinusHello: number
  /** The uncached route and reply-from at FIXED_RATE: medians over rounds, and the per-round p50 difference. */
  fixedRate: FixedRateResult
  upstreamCallsPerUncachedRequest: number
  /**
   * The load generator's own CPU µs per hello request, per round: the same code doing the same work each round, so its
   * spread is how much the machine's own speed moved during the run (other tenants of the host), not a property of
   * any server measured.
   */
  machineSpeedSamples?: number[]
  tierCheck: { l1Hits: number; l2Hits: number }
  samples: Record<string, LoadSample[]>
  goals: GoalResult[]
}

export interface FixedRateResult {
  rate: number
  proxy: { p50: number; p90: number; p99: number }
  uncached: { p50: number; p90: number; p99: number }
  /** uncached p50 − reply-from p50, per round (ms). */
  addedP50Samples: number[]
  addedP50: number
  /** Requests that did not get the expected 2xx body, both modes together. */
  failures: number
}

/** Offered rate of the added-latency comparison: about a tenth of what either server sustains on these machines. */
const FIXED_RATE = 1_000

async function text(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers })
  const body = await response.text()
  if (!response.ok) throw new Error(`${url} → ${response.status}: ${body}`)
  return { body, cache: response.headers.get('x-cache') }
}

async function cacheLookups(bridgeUrl: string, outcome: string): Promise<number> {
  const metrics = await (await fetch(`${bridgeUrl}/metrics`)).text()
  return metrics
    .split('\n')
    .filter(
      (line) => line.startsWith('recharge_bridge_cache_lookups_total{') && line.includes('cache="catalog.product"'),
    )
    .filter((line) => line.includes(`outcome="${outcome}"`))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0)
}

export async function throughputSuite(run: RunContext): Promise<ThroughputResult> {
  const { simulator, bridges, baselines, pids, profile, productId, productBody, customer } = run
  const product = encodeURIComponent(productId)
  const direct = await text(`${simulator.url}/products/${product}`, simulator.headers)
  const customerDirect = await text(`${simulator.url}/customers/${customer.id}`, simulator.headers)
  const auth = { authorization: `Bearer ${customer.token}` }
  const portal = await text(`${bridges.c.url}/v1/portal/url`, auth)
  for (const bridge of bridges.uncached) {
    if ((await text(`${bridge.url}/v1/portal/url`, auth)).body !== portal.body) {
      throw new Error(`bridge ${bridge.name}: a different portal URL from C's`)
    }
  }
  if ((await text(`${bridges.a.url}/v1/catalog/products/${product}`)).cache !== 'HIT') throw new Error('A: no L1 hit')
  if ((await text(`${bridges.b.url}/v1/catalog/products/${product}`)).cache !== 'HIT') throw new Error('B: no L2 hit')
  // A simulator field that changed between two reads would make every proxied body a mismatch: check it is stable.
  for (const proxy of baselines.customerProxies) {
    if ((await text(`${proxy}/customers/${customer.id}`)).body !== customerDirect.body) {
      throw new Error('the proxied customer body differs from the direct one')
    }
  }

  const modes: Mode[] = [
    {
      name: 'hello',
      what: 'bare Fastify, the catalog product JSON from memory',
      instances: [
        { target: { url: `${baselines.hello}/products/${product}`, expectBody: productBody }, servers: [pids.hello] },
      ],
    },
    {
      name: 'simulator',
      what: 'simulator GET /products/:id direct',
      instances: [
        {
          target: { url: `${simulator.url}/products/${product}`, headers: simulator.headers, expectBody: direct.body },
          servers: [pids.simulator],
        },
      ],
    },
    {
      name: 'reply-from',
      what: 'reply-from proxy → simulator GET /products/:id',
      instances: [
        { target: { url: `${baselines.proxy}/products/${product}`, expectBody: direct.body }, servers: [pids.proxy] },
      ],
    },
    {
      name: 'bridge-floor',
      what: 'bridge GET /healthz (its plugin stack: security headers, CORS, request ids, metrics)',
      instances: [{ target: { url: `${bridges.a.url}/healthz`, expectBody: '{"status":"ok"}' }, servers: [pids.a] }],
    },
    {
      name: 'l1-hit',
      what: 'bridge GET /v1/catalog/products/:id, L1 hit (a fast read, answered before routing)',
      instances: [
        {
          target: { url: `${bridges.a.url}/v1/catalog/products/${product}`, expectBody: productBody },
          servers: [pids.a],
        },
      ],
    },
    {
      name: 'l2-hit',
      what: 'bridge (L1 off) GET /v1/catalog/products/:id, Redis hit',
      instances: [
        {
          target: { url: `${bridges.b.url}/v1/catalog/products/${product}`, expectBody: productBody },
          servers: [pids.b, pids.redis],
        },
      ],
    },
    {
      name: 'reply-from-customer',
      what: `reply-from proxy → simulator GET /customers/:id (${baselines.customerProxies.length} processes of their own, one per round in turn)`,
      instances: baselines.customerProxies.map((url, i) => ({
        target: { url: `${url}/customers/${customer.id}`, expectBody: customerDirect.body },
        servers: [pids.customerProxies[i] ?? 0],
      })),
    },
    {
      name: 'uncached',
      what: `bridge GET /v1/portal/url (auth + queue + upstream GET /customers/:id; ${bridges.uncached.length} replicas of their own, one per round in turn)`,
      instances: bridges.uncached.map((bridge, i) => ({
        target: { url: `${bridge.url}/v1/portal/url`, headers: auth, expectBody: portal.body },
        servers: [pids.uncached[i] ?? 0, pids.redis],
      })),
    },
  ]

  const samples: Record<string, LoadSample[]> = Object.fromEntries(modes.map((mode) => [mode.name, []]))
  const cpuSamples: Record<string, (number | null)[]> = Object.fromEntries(modes.map((mode) => [mode.name, []]))
  const load = { connections: profile.connections }
  const before = { l1: await cacheLookups(bridges.a.url, 'hit_l1'), l2: await cacheLookups(bridges.b.url, 'hit_l2') }
  const machineSpeedSamples: number[] = []
  let uncachedRequests = 0
  let uncachedUpstream = 0
  const customerPath = `/customers/${customer.id}`
  // JIT and connection pools warm in every process before round 1 (the first seconds of a process are not its speed:
  // on these machines the bridge's optimising compiler was still busy after 3 s of load, the baselines' after 1 s).
  for (const mode of modes) {
    for (const { target } of mode.instances) await runLoad(target, { ...load, durationS: profile.jitWarmupS })
  }
  for (let round = 1; round <= profile.rounds; round++) {
    for (const mode of modes) {
      const { target, servers } = instanceOf(mode, round)
      // Counted with the simulator's running total: its ledger list keeps the newest 50,000 requests only, fewer than
      // one mode sends.
      const modeStart = Date.now()
      const recordedBefore = mode.name === 'uncached' ? await simulator.recorded() : 0
      const warm = await runLoad(target, { ...load, durationS: profile.warmupS })
      const cpuBefore = cpuMicrosOf(servers)
      const generatorBefore = process.cpuUsage()
      const sample = await runLoad(target, { ...load, durationS: profile.measureS })
      const generator = process.cpuUsage(generatorBefore)
      const cpuAfter = cpuMicrosOf(servers)
      if (mode.name === 'hello') {
        machineSpeedSamples.push(round3((generator.user + generator.system) / Math.max(1, sample.requests)))
      }
      const cpuPerRequest =
        cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) / Math.max(1, sample.requests)
      cpuSamples[mode.name]?.push(cpuPerRequest)
      if (mode.name === 'uncached') {
        // The total counts every path: check that what the ledger still holds of this mode is the customer read, or
        // the shopper's identity lookup (GET /customers?email=), which the bridge refreshes in the background once its
        // 5-minute TTL passes and a long run can meet. Those are not calls of the route and are not counted.
        const upstream = (await simulator.recorded()) - recordedBefore
        const seen = (await simulator.ledger()).filter((e) => Date.parse(e.at) >= modeStart && e.path !== customerPath)
        const identityRefreshes = seen.filter((e) => e.method === 'GET' && e.path === '/customers').length
        const others = seen.filter((e) => !(e.method === 'GET' && e.path === '/customers'))
        if (others.length > 0)
          throw new Error(`uncached mode: the simulator also saw ${others[0]?.method} ${others[0]?.path}`)
        uncachedRequests += warm.requests + sample.requests
        uncachedUpstream += upstream - identityRefreshes
      }
      samples[mode.name]?.push(sample)
      run.log(
        `  round ${round} ${mode.name.padEnd(20)} ${Math.round(sample.rps).toString().padStart(6)} req/s  p50 ${sample.p50} p99 ${sample.p99} ms  cpu ${cpuPerRequest === null ? '—' : `${Math.round(cpuPerRequest)} µs`}/req  non2xx ${sample.non2xx} mismatches ${sample.mismatches} errors ${sample.errors + sample.timeouts}`,
      )
    }
  }
  const fixedRate = await fixedRateComparison(run, byName(modes, 'reply-from-customer'), byName(modes, 'uncached'))
  const tierCheck = {
    l1Hits: (await cacheLookups(bridges.a.url, 'hit_l1')) - before.l1,
    l2Hits: (await cacheLookups(bridges.b.url, 'hit_l2')) - before.l2,
  }

  const of = (name: string) => samples[name] ?? []
  const ratio = (name: string, base: string) => of(name).map((sample, i) => sample.rps / (of(base)[i]?.rps ?? NaN))
  const p99Minus = (name: string, base: string) =>
    median(of(name).map((sample, i) => sample.p99 - (of(base)[i]?.p99 ?? NaN)))
  const ratioSamples: Record<string, number[]> = {
    'l1-hit ÷ hello': ratio('l1-hit', 'hello'),
    'l2-hit ÷ hello': ratio('l2-hit', 'hello'),
    'uncached ÷ reply-from-customer': ratio('uncached', 'reply-from-customer'),
    'reply-from ÷ hello': ratio('reply-from', 'hello'),
    'simulator ÷ hello': ratio('simulator', 'hello'),
    'bridge-floor ÷ hello': ratio('bridge-floor', 'hello'),
    'l1-hit ÷ bridge-floor': ratio('l1-hit', 'bridge-floor'),
    'l1-hit ÷ reply-from': ratio('l1-hit', 'reply-from'),
  }
  const ratios = Object.fromEntries(
    Object.entries(ratioSamples).map(([name, values]) => [name, round3(median(values))]),
  )
  const cpuOf = (name: string) => cpuSamples[name] ?? []
  const costRatio = (name: string, base: string) =>
    cpuOf(name).flatMap((cpu, i) => {
      const baseline = cpuOf(base)[i]
      return cpu === null || baseline === null || baseline === undefined || cpu <= 0 ? [] : [baseline / cpu]
    })
  const costRatioSamples: Record<string, number[]> = {
    'l1-hit ÷ hello': costRatio('l1-hit', 'hello'),
    'l2-hit ÷ hello': costRatio('l2-hit', 'hello'),
    'uncached ÷ reply-from-customer': costRatio('uncached', 'reply-from-customer'),
    'bridge-floor ÷ hello': costRatio('bridge-floor', 'hello'),
  }
  const costRatios = Object.fromEntries(
    Object.entries(costRatioSamples)
      .filter(([, values]) => values.length > 0)
      .map(([name, values]) => [name, round3(median(values))]),
  )
  const costNote = (key: string) =>
    costRatios[key] === undefined ? undefined : `requests per CPU-second: ${costRatios[key]} × the baseline's`
  const l1P99MinusHello = p99Minus('l1-hit', 'hello')
  const l2P99MinusHello = p99Minus('l2-hit', 'hello')
  const summaries: ModeSummary[] = modes.map((mode) => {
    const list = of(mode.name)
    return {
      name: mode.name,
      what: mode.what,
      rps: Math.round(median(list.map((s) => s.rps))),
      p50: median(list.map((s) => s.p50)),
      p99: median(list.map((s) => s.p99)),
      non2xx: sum(list.map((s) => s.non2xx)),
      mismatches: sum(list.map((s) => s.mismatches)),
      errors: sum(list.map((s) => s.errors + s.timeouts)),
      cpuUsPerRequest: medianOrNull(cpuOf(mode.name)),
    }
  })
  const clean = (name: string) => {
    const summary = summaries.find((s) => s.name === name)
    return summary !== undefined && summary.non2xx + summary.mismatches + summary.errors === 0
  }
  const upstreamCallsPerUncachedRequest = round3(uncachedUpstream / Math.max(1, uncachedRequests))
  const goals: GoalResult[] = [
    {
      id: 'P1',
      goal: 'cached catalog route (L1 hit) ≥ 0.75 × hello-world req/s',
      value: ratios['l1-hit ÷ hello'] ?? null,
      unit: '× hello',
      target: 0.75,
      comparison: '>=',
      pass: (ratios['l1-hit ÷ hello'] ?? 0) >= 0.75 && clean('l1-hit'),
      ...withNote(costNote('l1-hit ÷ hello')),
    },
    {
      id: 'P2',
      goal: 'cached catalog route, L1 off (Redis hit) ≥ 0.40 × hello-world req/s',
      value: ratios['l2-hit ÷ hello'] ?? null,
      unit: '× hello',
      target: 0.4,
      comparison: '>=',
      pass: (ratios['l2-hit ÷ hello'] ?? 0) >= 0.4 && clean('l2-hit'),
      ...withNote(costNote('l2-hit ÷ hello')),
    },
    {
      id: 'P3',
      goal: 'L1 hit p99 ≤ hello-world p99 + 3 ms',
      value: l1P99MinusHello,
      unit: 'ms',
      target: 3,
      comparison: '<=',
      pass: l1P99MinusHello <= 3,
    },
    {
      id: 'P3b',
      goal: 'L2 (Redis) hit p99 ≤ hello-world p99 + 6 ms',
      value: l2P99MinusHello,
      unit: 'ms',
      target: 6,
      comparison: '<=',
      pass: l2P99MinusHello <= 6,
    },
    {
      id: 'P5',
      goal: 'uncached route (auth + queue + validation) ≥ 1.0 × reply-from req/s on the same upstream call',
      value: ratios['uncached ÷ reply-from-customer'] ?? null,
      unit: '× reply-from',
      target: 1,
      comparison: '>=',
      pass: (ratios['uncached ÷ reply-from-customer'] ?? 0) >= 1 && clean('uncached'),
      note: [
        `upstream calls per uncached request: ${upstreamCallsPerUncachedRequest} (1.0 = nothing cached)`,
        costNote('uncached ÷ reply-from-customer'),
      ]
        .filter(Boolean)
        .join('; '),
    },
    {
      id: 'P5b',
      goal: `uncached route adds ≤ 1 ms to the median of reply-from's same upstream call at a steady ${FIXED_RATE} req/s`,
      value: fixedRate.addedP50,
      unit: 'ms',
      target: 1,
      comparison: '<=',
      pass: fixedRate.addedP50 <= 1 && fixedRate.failures === 0,
      note: `p50 / p99: bridge ${fixedRate.uncached.p50} / ${fixedRate.uncached.p99} ms, reply-from ${fixedRate.proxy.p50} / ${fixedRate.proxy.p99} ms`,
    },
  ]
  return {
    modes: summaries,
    ratios,
    ratioSamples,
    costRatios,
    costRatioSamples,
    l1P99MinusHello,
    l2P99MinusHello,
    fixedRate,
    upstreamCallsPerUncachedRequest,
    machineSpeedSamples,
    tierCheck,
    samples,
    goals,
  }
}

function instanceOf(mode: Mode, round: number): ModeInstance {
  const instance = mode.instances[(round - 1) % mode.instances.length]
  if (!instance) throw new Error(`mode ${mode.name} has no instance`)
  return instance
}

function byName(modes: Mode[], name: string): Mode {
  const mode = modes.find((candidate) => candidate.name === name)
  if (!mode) throw new Error(`no mode ${name}`)
  return mode
}

/** reply-from and the uncached route at FIXED_RATE, interleaved over the profile's rounds. */
async function fixedRateComparison(run: RunContext, proxy: Mode, uncached: Mode): Promise<FixedRateResult> {
  const { profile } = run
  const load = { connections: profile.connections, overallRate: FIXED_RATE }
  const samples: { proxy: LoadSample[]; uncached: LoadSample[] } = { proxy: [], uncached: [] }
  for (let round = 1; round <= profile.rounds; round++) {
    for (const [side, mode] of [
      ['proxy', proxy],
      ['uncached', uncached],
    ] as const) {
      const { target } = instanceOf(mode, round)
      await runLoad(target, { ...load, durationS: profile.warmupS })
      const sample = await runLoad(target, { ...load, durationS: profile.measureS })
      samples[side].push(sample)
      run.log(
        `  round ${round} ${`${mode.name} @${FIXED_RATE}/s`.padEnd(28)} p50 ${sample.p50} p90 ${sample.p90} p99 ${sample.p99} ms  non2xx ${sample.non2xx} mismatches ${sample.mismatches} errors ${sample.errors + sample.timeouts}`,
      )
    }
  }
  const percentiles = (list: LoadSample[]) => ({
    p50: median(list.map((s) => s.p50)),
    p90: median(list.map((s) => s.p90)),
    p99: median(list.map((s) => s.p99)),
  })
  const addedP50Samples = samples.uncached.map((sample, i) => sample.p50 - (samples.proxy[i]?.p50 ?? NaN))
  return {
    rate: FIXED_RATE,
    proxy: percentiles(samples.proxy),
    uncached: percentiles(samples.uncached),
    addedP50Samples,
    addedP50: median(addedP50Samples),
    failures: sum([...samples.proxy, ...samples.uncached].map((s) => s.non2xx + s.mismatches + s.errors + s.timeouts)),
  }
}

function medianOrNull(values: (number | null)[]): number | null {
  const known = values.filter((value): value is number => value !== null)
  return known.length === 0 ? null : Math.round(median(known))
}

function withNote(note: string | undefined): { note?: string } {
  return note === undefined ? {} : { note }
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0)
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000
}
