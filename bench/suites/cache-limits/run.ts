/**
 * Cache benchmark: the bridge's cached catalog read side by side with its physical limits, in one run.
 *
 *   npm run bench -- --only cache-limits                       # 3 interleaved rounds, 1 s warm-up + 5 s per mode (~2 min)
 *   BENCH_ROUNDS=5 BENCH_DURATION=8 npm run bench -- --only cache-limits
 *
 * Modes, each a server in its own process, loaded by autocannon (c=50, p=1, body verified) from this process:
 *   hello      bare Fastify hello-world (the cost floor of one Node process answering HTTP)
 *   simulator  the Recharge simulator hit directly (what a proxy can never beat)
 *   proxy      a plain @fastify/reply-from pass-through to the simulator
 *   app-hello  the bridge app answering {hello:'world'} without the cache (its shared plugins' cost)
 *   l1-hit     the bridge, cached product read answered from L1
 *   l1-harness the bridge, a route that is only the cached read and sendCached, from L1
 *   l2-hit     the bridge with CACHE_L1_MAX_BYTES=0: every request reads the Redis envelope
 *   miss       the bridge, every request a new key: lease, queue, upstream call, L2 write
 * Medians over rounds; ratios are per round against hello, then the median. Writes bench/results/cache.json and
 * bench/results/cache.md. Needs Redis (REDIS_URL or 127.0.0.1:6379).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { createInterface } from 'node:readline'
import autocannon from 'autocannon'

const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const duration = Number(process.env.BENCH_DURATION ?? 5)
const warmup = Number(process.env.BENCH_WARMUP ?? 1)
const connections = 50
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const children: ChildProcess[] = []

function start(mode: string, env: Record<string, string> = {}): Promise<Record<string, unknown> & { port: number }> {
  const child = spawn(process.execPath, [new URL('./server.ts', import.meta.url).pathname, mode], {
    env: { PATH: process.env.PATH ?? '', REDIS_URL: redisUrl, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.push(child)
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line.startsWith('{"port"')) resolve(JSON.parse(line) as Record<string, unknown> & { port: number })
    })
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)))
  })
}

interface Sample {
  rps: number
  p50: number
  p99: number
  requests: number
  non2xx: number
  errors: number
  timeouts: number
  mismatches: number
}

interface Mode {
  name: string
  url: string
  headers?: Record<string, string>
  expectBody: string
  /** A distinct path per request (the miss mode). */
  pathFor?: (n: number) => string
}

async function load(mode: Mode, seconds: number): Promise<Sample> {
  let n = 0
  // autocannon refuses expectBody together with `requests`: the miss mode checks bodies itself.
  let wrongBodies = 0
  const result = await autocannon({
    url: mode.url,
    connections,
    pipelining: 1,
    duration: seconds,
    ...(mode.headers ? { headers: mode.headers } : {}),
    ...(mode.pathFor
      ? {
          requests: [
            {
              setupRequest: (request: autocannon.Request) => {
                n += 1
                return { ...request, path: mode.pathFor!(n) }
              },
              onResponse: (status: number, body: string) => {
                if (status === 200 && body !== mode.expectBody) wrongBodies += 1
              },
            },
          ],
        }
      : { expectBody: mode.expectBody }),
  })
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    mismatches: ((result as unknown as { mismatches?: number }).mismatches ?? 0) + wrongBodies,
  }
}

async function body(url: string, headers: Record<string, string> = {}): Promise<{ text: string; cache: string }> {
  const response = await fetch(url, { headers })
  if (!response.ok) throw new Error(`${url} → ${response.status}: ${await response.text()}`)
  return { text: await response.text(), cache: response.headers.get('x-cache') ?? '' }
}

async function metric(port: number, outcome: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  return text
    .split('\n')
    .filter((line) => line.startsWith('recharge_bridge_cache_lookups_total{') && line.includes(`outcome="${outcome}"`))
    .filter((line) => line.includes('cache="bench.catalog.product.') || line.includes('cache="catalog.product"'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0)
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

async function main() {
  const sim = await start('simulator')
  const simUrl = `http://127.0.0.1:${sim.port}`
  const token = String(sim.token)
  const productId = String(sim.productId)
  // Both bridges use one definition name: the L2-only bridge reads the entry the other one stored.
  const run = Date.now().toString(36)
  const bridgeEnv = { SIM_URL: simUrl, SIM_TOKEN: token, BENCH_RUN: run }
  const [hello, proxy, bridgeL1, bridgeL2] = await Promise.all([
    start('hello'),
    start('proxy', { SIM_URL: simUrl, SIM_TOKEN: token }),
    start('bridge', bridgeEnv),
    start('bridge', { ...bridgeEnv, CACHE_L1_MAX_BYTES: '0' }),
  ])
  const simHeaders = { 'x-recharge-access-token': token, 'x-recharge-version': '2021-11' }
  const productPath = `/products/${encodeURIComponent(productId)}`
  const harnessPath = `/bench/catalog/products/${encodeURIComponent(productId)}`
  // The bridge's own catalog route when it is registered; the harness route of the same shape otherwise.
  const bridgePath = bridgeL1.catalogRoute ? `/v1/catalog/products/${encodeURIComponent(productId)}` : harnessPath
  const direct = await body(`${simUrl}${productPath}`, simHeaders)
  const l1Url = `http://127.0.0.1:${bridgeL1.port}${bridgePath}`
  const l2Url = `http://127.0.0.1:${bridgeL2.port}${bridgePath}`
  const cachedBody = (await body(l1Url)).text
  if ((await body(l1Url)).cache !== 'HIT') throw new Error('L1 mode does not hit')
  if ((await body(l2Url)).cache !== 'HIT') throw new Error('L2 mode does not hit')

  const harnessBody = (await body(`http://127.0.0.1:${bridgeL1.port}${harnessPath}`)).text
  const modes: Mode[] = [
    { name: 'hello', url: `http://127.0.0.1:${hello.port}${productPath}`, expectBody: '{"hello":"world"}' },
    { name: 'simulator', url: `${simUrl}${productPath}`, headers: simHeaders, expectBody: direct.text },
    { name: 'proxy', url: `http://127.0.0.1:${proxy.port}${productPath}`, expectBody: direct.text },
    {
      name: 'app-hello',
      url: `http://127.0.0.1:${bridgeL1.port}/bench/hello/${encodeURIComponent(productId)}`,
      expectBody: '{"hello":"world"}',
    },
    { name: 'l1-hit', url: l1Url, expectBody: cachedBody },
    // The cache and sendCached alone (no route-specific work such as ETag handling or parsing a cached document).
    { name: 'l1-harness', url: `http://127.0.0.1:${bridgeL1.port}${harnessPath}`, expectBody: harnessBody },
    { name: 'l2-hit', url: l2Url, expectBody: cachedBody },
    {
      name: 'miss',
      url: `http://127.0.0.1:${bridgeL1.port}${harnessPath}`,
      expectBody: harnessBody,
      pathFor: (n) => `${harnessPath}?miss=${run}-${n}`,
    },
  ]

  const samples: Record<string, Sample[]> = Object.fromEntries(modes.map((m) => [m.name, []]))
  const tierCounts = { l1Hits: 0, l2Hits: 0, misses: 0 }
  const before = {
    l1: await metric(bridgeL1.port, 'hit_l1'),
    l2: await metric(bridgeL2.port, 'hit_l2'),
    miss: await metric(bridgeL1.port, 'miss'),
  }
  for (let round = 1; round <= rounds; round++) {
    for (const mode of modes) {
      if (warmup > 0) await load(mode, warmup)
      const sample = await load(mode, duration)
      samples[mode.name]!.push(sample)
      process.stderr.write(
        `round ${round} ${mode.name.padEnd(9)} ${Math.round(sample.rps).toString().padStart(6)} req/s  p50 ${sample.p50} ms  p99 ${sample.p99} ms  non2xx ${sample.non2xx} mismatches ${sample.mismatches} errors ${sample.errors}\n`,
      )
    }
  }
  tierCounts.l1Hits = (await metric(bridgeL1.port, 'hit_l1')) - before.l1
  tierCounts.l2Hits = (await metric(bridgeL2.port, 'hit_l2')) - before.l2
  tierCounts.misses = (await metric(bridgeL1.port, 'miss')) - before.miss

  const helloSamples = samples.hello!
  const summary = Object.fromEntries(
    modes.map((mode) => {
      const list = samples[mode.name]!
      return [
        mode.name,
        {
          rps: Math.round(median(list.map((s) => s.rps))),
          p50: median(list.map((s) => s.p50)),
          p99: median(list.map((s) => s.p99)),
          ratioToHello: Number(median(list.map((s, i) => s.rps / helloSamples[i]!.rps)).toFixed(3)),
          p99MinusHello: median(list.map((s, i) => s.p99 - helloSamples[i]!.p99)),
          non2xx: list.reduce((sum, s) => sum + s.non2xx, 0),
          mismatches: list.reduce((sum, s) => sum + s.mismatches, 0),
          errors: list.reduce((sum, s) => sum + s.errors + s.timeouts, 0),
        },
      ]
    }),
  ) as Record<string, { rps: number; p50: number; p99: number; ratioToHello: number; p99MinusHello: number }>

  const l1VsApp = Number(median(samples['l1-hit']!.map((s, i) => s.rps / samples['app-hello']![i]!.rps)).toFixed(3))
  const goals = [
    {
      id: 'P1',
      goal: 'L1 hit ≥ 0.75 × hello req/s',
      value: summary['l1-hit']!.ratioToHello,
      pass: summary['l1-hit']!.ratioToHello >= 0.75,
    },
    {
      id: 'P2',
      goal: 'L2 hit ≥ 0.40 × hello req/s',
      value: summary['l2-hit']!.ratioToHello,
      pass: summary['l2-hit']!.ratioToHello >= 0.4,
    },
    {
      id: 'P3',
      goal: 'L1 hit p99 ≤ hello p99 + 3 ms',
      value: summary['l1-hit']!.p99MinusHello,
      pass: summary['l1-hit']!.p99MinusHello <= 3,
    },
  ]
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    loadavgAtEnd: loadavg().map((v) => Number(v.toFixed(2))),
    note: 'CPU shared with other work on this machine (up to 8 concurrent sessions on 2 cores); compare ratios within this run only.',
  }
  const settings = {
    rounds,
    durationS: duration,
    warmupS: warmup,
    connections,
    pipelining: 1,
    bridgeRoute: bridgeL1.catalogRoute
      ? 'l1-hit and l2-hit: the catalog route GET /v1/catalog/products/:externalProductId; miss: the harness route /bench/catalog/products/:id?miss=<n> (same shape: cached products.get through app.recharge, sendCached), one new key per request'
      : 'harness route /bench/catalog/products/:id (catalog route not registered): cached products.get through app.recharge, sendCached',
  }
  const report = { at: new Date().toISOString(), machine, settings, summary, l1VsApp, goals, tierCounts, samples }
  mkdirSync(new URL('../../results/', import.meta.url), { recursive: true })
  writeFileSync(new URL('../../results/cache.json', import.meta.url), `${JSON.stringify(report, null, 2)}\n`)

  const rows = modes.map((mode) => {
    const s = summary[mode.name] as Record<string, number>
    return `| ${mode.name} | ${s.rps} | ${s.ratioToHello} | ${s.p50} / ${s.p99} | ${s.p99MinusHello} | ${s.non2xx} / ${s.mismatches} / ${s.errors} |`
  })
  const markdown = [
    '# Cache benchmark',
    '',
    `${report.at} · ${machine.cpu} × ${machine.cores} · Node ${machine.node} · load average at end ${machine.loadavgAtEnd.join(' ')}`,
    '',
    `autocannon c=${connections}, p=1, ${warmup} s warm-up + ${duration} s per mode, ${rounds} interleaved rounds; medians; ratios per round against hello. Bodies verified (a wrong body counts as a mismatch).`,
    `Bridge route: ${settings.bridgeRoute}.`,
    `${machine.note}`,
    '',
    '| mode | req/s | ÷ hello | p50 / p99 ms | p99 − hello p99 | non-2xx / mismatches / errors |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    '| goal | value | pass |',
    '| --- | --- | --- |',
    ...goals.map((g) => `| ${g.id}: ${g.goal} | ${g.value} | ${g.pass ? 'yes' : 'NO'} |`),
    '',
    `L1 hit ÷ app-hello (the cache's own cost inside the same app): ${l1VsApp}.`,
    '',
    `Tier check (bridge metrics over the measured and warm-up runs): L1 hits ${tierCounts.l1Hits}, L2 hits ${tierCounts.l2Hits}, misses ${tierCounts.misses}.`,
    '',
    'Reproduce: `npm run bench -- --only cache-limits` (Redis at REDIS_URL or 127.0.0.1:6379).',
    '',
  ].join('\n')
  writeFileSync(new URL('../../results/cache.md', import.meta.url), markdown)
  process.stdout.write(markdown)
}

try {
  await main()
} finally {
  for (const child of children) child.kill('SIGTERM')
}
