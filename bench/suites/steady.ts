/**
 * The uncached route against reply-from at steady state, the cross-check of the throughput suite's P5:
 *
 *   npm run bench -- --only steady -- [--instances 3] [--rounds 8] [--seconds 3] [--warmup 1]
 *
 * Starts one simulator and one private redis-server, `instances` bridge processes and as many reply-from proxies,
 * and loads one process at a time (autocannon, c=50, p=1, every body verified) with nothing else running: the
 * bridge's GET /v1/portal/url and the proxy's GET /customers/:id, the same upstream call. Every round visits every
 * process, in reverse order on even rounds, so neither side always follows the other. Several processes per side show
 * how far two instances of the same code differ. Reports req/s and CPU µs per request (/proc) per process and per
 * side; writes bench/results/steady.json and .md.
 *
 * The full suite (bench/run.ts) interleaves eight modes on shared machines; this script isolates the one comparison.
 */
import { writeFileSync } from 'node:fs'
import { cpuMicrosOf } from '../harness/cpu.ts'
import { median, runLoad } from '../harness/load.ts'
import { numericOptions, type PairSide, withPairBench } from '../harness/pair.ts'
import { repoRoot } from '../harness/processes.ts'

const {
  instances,
  rounds,
  seconds,
  warmup: warmupS,
} = numericOptions({
  instances: 3,
  rounds: 8,
  seconds: 3,
  warmup: 1,
})
const CONNECTIONS = 50

interface Server extends PairSide {
  side: 'bridge' | 'reply-from'
  rps: number[]
  cpu: number[]
}

await withPairBench(async ({ bridge, proxy, log }) => {
  const servers: Server[] = []
  for (let index = 0; index < instances; index++) {
    servers.push({ ...(await bridge(`bridge-${index + 1}`)), side: 'bridge', rps: [], cpu: [] })
    servers.push({ ...(await proxy(`reply-from-${index + 1}`)), side: 'reply-from', rps: [], cpu: [] })
  }

  // Compilers and connection pools warm in every process first.
  for (const server of servers) await runLoad(server.target, { connections: CONNECTIONS, durationS: 5 })
  for (let round = 1; round <= rounds; round++) {
    for (const server of round % 2 === 0 ? [...servers].reverse() : servers) {
      await runLoad(server.target, { connections: CONNECTIONS, durationS: warmupS })
      const before = cpuMicrosOf(server.pids)
      const sample = await runLoad(server.target, { connections: CONNECTIONS, durationS: seconds })
      const after = cpuMicrosOf(server.pids)
      const failed = sample.non2xx + sample.mismatches + sample.errors + sample.timeouts
      if (failed > 0) throw new Error(`${server.name}: ${failed} requests without the expected answer`)
      server.rps.push(sample.rps)
      if (before !== null && after !== null) server.cpu.push((after - before) / Math.max(1, sample.requests))
      log(`  round ${round} ${server.name.padEnd(14)} ${Math.round(sample.rps)} req/s`)
    }
  }

  const side = (name: Server['side']) => servers.filter((server) => server.side === name)
  const summary = (group: Server[]) => ({
    rps: median(group.flatMap((server) => server.rps)),
    cpuUsPerRequest: median(group.flatMap((server) => server.cpu)),
  })
  const bridges = summary(side('bridge'))
  const proxies = summary(side('reply-from'))
  const result = {
    at: new Date().toISOString(),
    settings: { instances, rounds, seconds, warmupS, connections: CONNECTIONS },
    servers: servers.map(({ side: kind, name, rps, cpu }) => ({
      side: kind,
      name,
      rps: median(rps),
      cpuUsPerRequest: cpu.length ? median(cpu) : null,
    })),
    bridge: bridges,
    replyFrom: proxies,
    ratio: { rps: bridges.rps / proxies.rps, perCpuSecond: proxies.cpuUsPerRequest / bridges.cpuUsPerRequest },
  }
  const fmt = (value: number | null, digits = 1) => (value === null ? '—' : value.toFixed(digits))
  const markdown = [
    `# Uncached route vs reply-from at steady state (${result.at})`,
    '',
    `Reproduce: \`npm run bench -- --only steady -- --instances ${instances} --rounds ${rounds} --seconds ${seconds} --warmup ${warmupS}\``,
    '',
    '| process | req/s (median) | CPU µs / request (median) |',
    '| --- | --- | --- |',
    ...result.servers.map(
      (server) => `| ${server.name} | ${Math.round(server.rps)} | ${fmt(server.cpuUsPerRequest)} |`,
    ),
    '',
    `Bridge ÷ reply-from: ${fmt(result.ratio.rps, 3)} × req/s, ${fmt(result.ratio.perCpuSecond, 3)} × requests per CPU-second.`,
    '',
  ].join('\n')
  writeFileSync(`${repoRoot}bench/results/steady.json`, `${JSON.stringify(result, null, 2)}\n`)
  writeFileSync(`${repoRoot}bench/results/steady.md`, markdown)
  process.stdout.write(markdown)
})
