/**
 * Webhook acknowledgement latency at a fixed delivery rate, against a bare Fastify hello-world in the same run.
 *
 *   npm run bench -- --only webhooks-ack            # 200 deliveries/s, 3 interleaved rounds of 10 s per server
 *   BENCH_RATE=400 BENCH_DURATION=20 BENCH_ROUNDS=5 npm run bench -- --only webhooks-ack
 *
 * Every request carries a distinct subscription payload signed with the v1 scheme (HMAC over "<t>.<body>") and the
 * legacy header, as Recharge sends both; the bridge verifies, appends to the Redis stream and answers 200, and its
 * consumers process in the background. Needs Redis (REDIS_URL or 127.0.0.1:6379). Writes
 * bench/results/webhooks-ack.json and .md. Goal: bridge p99 < 100 ms at 200/s.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import autocannon from 'autocannon'
import { createClient } from 'redis'
import { median } from '../../harness/load.ts'
import { signedDeliveries } from '../../harness/webhook-signature.ts'

const rate = Number(process.env.BENCH_RATE ?? 200)
const duration = Number(process.env.BENCH_DURATION ?? 10)
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 20)
const secret = `bench_secret_${randomBytes(8).toString('hex')}`
const prefix = `bench:webhooks:${randomBytes(4).toString('hex')}`
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

function startServer(mode: 'bridge' | 'baseline'): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [new URL('./server.ts', import.meta.url).pathname, mode], {
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_URL: redisUrl,
      BENCH_SECRET: secret,
      BENCH_PREFIX: prefix,
      BENCH_NO_CONSUMERS: process.env.BENCH_NO_CONSUMERS ?? '',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line.startsWith('{"port"')) resolve({ child, port: (JSON.parse(line) as { port: number }).port })
    })
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)))
  })
}

const signedDelivery = signedDeliveries(secret, 100_000)

async function load(url: string, signed: boolean, seconds = duration): Promise<autocannon.Result> {
  return autocannon({
    url,
    method: 'POST',
    connections,
    overallRate: rate,
    duration: seconds,
    requests: [
      {
        setupRequest: (request) => {
          const delivery = signedDelivery()
          return {
            ...request,
            body: delivery.body,
            headers: signed ? delivery.headers : { 'content-type': 'application/json' },
          }
        },
      },
    ],
  })
}

function summary(result: autocannon.Result) {
  return {
    requests: result.requests.total,
    rps: result.requests.average,
    p50_ms: result.latency.p50,
    p90_ms: result.latency.p90,
    p99_ms: result.latency.p99,
    max_ms: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  }
}

type Summary = ReturnType<typeof summary>

/** CPU time (user + system, ms) a child process has used so far, from /proc (Linux); null elsewhere. */
function cpuMs(child: ChildProcess): number | null {
  try {
    const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    // After "pid (comm) ": state is field 0, utime field 11, stime field 12 (clock ticks, 100 per second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
  } catch {
    return null
  }
}

/** Runs `work` and adds the CPU the server process spent meanwhile to `totals`. */
async function measured<T>(child: ChildProcess, totals: { cpuMs: number }, work: () => Promise<T>): Promise<T> {
  const before = cpuMs(child)
  const result = await work()
  const after = cpuMs(child)
  if (before !== null && after !== null) totals.cpuMs += after - before
  return result
}

/** Per-round figures plus the median of each latency figure (rounds interleave the servers, so load noise is shared). */
function combine(runs: Summary[]) {
  return {
    rounds: runs,
    requests: runs.reduce((sum, run) => sum + run.requests, 0),
    p50_ms: median(runs.map((run) => run.p50_ms)),
    p90_ms: median(runs.map((run) => run.p90_ms)),
    p99_ms: median(runs.map((run) => run.p99_ms)),
    max_ms: Math.max(...runs.map((run) => run.max_ms)),
    non2xx: runs.reduce((sum, run) => sum + run.non2xx, 0),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
  }
}

const bridge = await startServer('bridge')
const baseline = await startServer('baseline')
const intakeUrl = `http://127.0.0.1:${bridge.port}/v1/webhooks/recharge?topic=subscription/updated`
const baselineUrl = `http://127.0.0.1:${baseline.port}/hook`
try {
  // Warm-up (JIT, connections, Redis scripts) on the paths measured.
  await load(intakeUrl, true, 2)
  await load(baselineUrl, false, 2)
  const runs = { baseline: [] as Summary[], floor: [] as Summary[], bridge: [] as Summary[] }
  // Server CPU per request: unlike latency on a shared machine, it does not depend on what else runs.
  const cpu = { baseline: { cpuMs: 0 }, bridge: { cpuMs: 0 } }
  for (let round = 0; round < rounds; round++) {
    runs.baseline.push(summary(await measured(baseline.child, cpu.baseline, () => load(baselineUrl, false))))
    // The bridge's own floor: its plugin stack (security headers, metrics, request ids) on a route that does nothing.
    runs.floor.push(
      summary(
        await autocannon({ url: `http://127.0.0.1:${bridge.port}/healthz`, connections, overallRate: rate, duration }),
      ),
    )
    runs.bridge.push(summary(await measured(bridge.child, cpu.bridge, () => load(intakeUrl, true))))
  }
  const loadEnded = Date.now() // the last run of each round is the bridge's
  const base = combine(runs.baseline)
  const floor = combine(runs.floor)
  const ours = combine(runs.bridge)

  // Processing keeps up? Wait for the stream to drain and read the lag histogram.
  const redis = createClient({ url: redisUrl })
  await redis.connect()
  const drainDeadline = Date.now() + 60_000
  const consumers = process.env.BENCH_NO_CONSUMERS !== '1'
  while (consumers && (await redis.xLen(`${prefix}:deliveries`)) > 0 && Date.now() < drainDeadline) await sleep(100)
  const drainedAfterMs = Date.now() - loadEnded
  const metrics = await (await fetch(`http://127.0.0.1:${bridge.port}/metrics`)).text()
  const processed = Number(
    /^recharge_bridge_webhook_events_processed_total\{resource="subscription"\} (\d+)/m.exec(metrics)?.[1] ?? 0,
  )
  const lagBuckets = [
    ...metrics.matchAll(/^recharge_bridge_webhook_processing_lag_seconds_bucket\{le="([^"]+)"\} (\d+)/gm),
  ].map((m) => ({
    le: m[1] as string,
    count: Number(m[2]),
  }))
  const lagTotal = lagBuckets.at(-1)?.count ?? 0
  const lagP99Bucket = lagBuckets.find((bucket) => bucket.count >= lagTotal * 0.99)?.le
  for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 }))
    if (keys.length) await redis.del(keys)
  await redis.close()

  const result = {
    date: new Date().toISOString(),
    node: process.version,
    load_average: loadavg(),
    cores: cpus().length,
    rate_per_s: rate,
    duration_s: duration,
    rounds,
    connections,
    baseline: base,
    bridge_healthz: floor,
    bridge: ours,
    p99_ratio: Number((ours.p99_ms / Math.max(1, base.p99_ms)).toFixed(2)),
    server_cpu_ms_per_request: {
      baseline: Number((cpu.baseline.cpuMs / Math.max(1, base.requests)).toFixed(3)),
      // Includes the consumers processing each delivery (dedupe, ordering guard, cache invalidation) in the same process.
      bridge_ack_and_processing: Number((cpu.bridge.cpuMs / Math.max(1, ours.requests)).toFixed(3)),
    },
    goal: 'bridge p99 < 100 ms',
    goal_met: ours.p99_ms < 100 && ours.non2xx === 0 && ours.errors === 0,
    processing: {
      processed,
      drained_after_load_ms: Math.max(0, drainedAfterMs),
      lag_p99_at_most_s: lagP99Bucket ?? null,
    },
  }
  const markdown = [
    `# Webhook acknowledgement latency (${result.date})`,
    '',
    `${rate} requests/s, ${rounds} interleaved rounds of ${duration} s per server, ${connections} connections, Node ${process.version}; command: \`npm run bench -- --only webhooks-ack\`. Latencies are medians over the rounds (max: the worst round).`,
    '',
    '| server | requests | p50 ms | p90 ms | p99 ms | max ms | non-2xx | errors |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    `| bare Fastify hello-world | ${base.requests} | ${base.p50_ms} | ${base.p90_ms} | ${base.p99_ms} | ${base.max_ms} | ${base.non2xx} | ${base.errors} |`,
    `| bridge GET /healthz (plugin stack floor) | ${floor.requests} | ${floor.p50_ms} | ${floor.p90_ms} | ${floor.p99_ms} | ${floor.max_ms} | ${floor.non2xx} | ${floor.errors} |`,
    `| bridge intake (verify + XADD + 200) | ${ours.requests} | ${ours.p50_ms} | ${ours.p90_ms} | ${ours.p99_ms} | ${ours.max_ms} | ${ours.non2xx} | ${ours.errors} |`,
    '',
    `Machine load average at the end: ${loadavg()
      .map((value) => value.toFixed(1))
      .join(' / ')} (1/5/15 min) on ${cpus().length} cores.`,
    `Server CPU per request: baseline ${result.server_cpu_ms_per_request.baseline} ms; bridge ${result.server_cpu_ms_per_request.bridge_ack_and_processing} ms (acknowledgement plus background processing).`,
    `p99 ratio bridge/baseline: ${result.p99_ratio}. Goal p99 < 100 ms: ${result.goal_met ? 'met' : 'NOT met'}.`,
    `Processed ${processed} events; stream drained ${result.processing.drained_after_load_ms} ms after the load ended; processing lag p99 ≤ ${lagP99Bucket ?? '?'} s.`,
    '',
  ].join('\n')
  writeFileSync(new URL('../../results/webhooks-ack.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`)
  writeFileSync(new URL('../../results/webhooks-ack.md', import.meta.url), markdown)
  process.stdout.write(markdown)
} finally {
  bridge.child.kill('SIGTERM')
  baseline.child.kill('SIGTERM')
}
