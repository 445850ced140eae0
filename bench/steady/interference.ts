/**
 * Does load on another bridge process change the uncached route's ratio to reply-from? The full suite runs the floor
 * and L1-hit modes on bridge A at 30,000+ req/s earlier in every round; measured alone, the P5 pair comes out higher.
 *
 *   node bench/steady/interference.ts [--rounds 10] [--seconds 5] [--warmup 2]
 *
 * Starts one simulator and one private redis-server, a neighbour bridge (the catalog product cached in its L1), one
 * bridge and one reply-from proxy for the pair. Each round loads, one after another, as the full suite does: (odd
 * rounds only) the neighbour's GET /healthz and its L1-hit product route, then reply-from's GET /customers/:id, then
 * the bridge's GET /v1/portal/url (c=50, p=1, every body verified). Odd and even rounds alternate in one run, so both
 * halves see the same processes and the same drift of the machine. Writes bench/results/interference.{json,md}.
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { DisposableRedis } from '../../test/support/redis-server.ts'
import { benchShopper, startBridge } from '../harness/bridge.ts'
import { cpuMicrosOf } from '../harness/cpu.ts'
import { type LoadTarget, median, runLoad } from '../harness/load.ts'
import { repoRoot, stopAll } from '../harness/processes.ts'
import { ensureBuilt, startBaseline, UNLIMITED } from '../harness/setup.ts'
import { startSimulator } from '../harness/simulator.ts'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
  },
})
const rounds = Number(values.rounds)
const seconds = Number(values.seconds)
const warmupS = Number(values.warmup)
const load = { connections: 50 }

interface PairRound {
  neighbourLoaded: boolean
  /** bridge req/s ÷ reply-from req/s, and reply-from CPU per request ÷ the bridge's. */
  rpsRatio: number
  perCpuSecondRatio: number
}

const log = (line: string) => process.stderr.write(`${line}\n`)
ensureBuilt(log, false)
const redis = await DisposableRedis.start()
try {
  const simulator = await startSimulator({ bucketSize: UNLIMITED, leakRate: UNLIMITED })
  const customer = await benchShopper(simulator)
  const settings = { simulator, redisUrl: redis.url, bucketSize: UNLIMITED, leakRate: UNLIMITED }
  const [neighbour, bridge] = await Promise.all([
    startBridge({ ...settings, name: 'neighbour' }),
    startBridge({ ...settings, name: 'bridge' }),
  ])
  const proxy = await startBaseline('proxy', { SIM_URL: simulator.url, SIM_TOKEN: simulator.apiToken })
  const expected = async (url: string, headers: Record<string, string> = {}) => {
    const response = await fetch(url, { headers })
    const body = await response.text()
    if (!response.ok) throw new Error(`${url} → ${response.status}: ${body}`)
    return body
  }
  const { products } = JSON.parse(await expected(`${simulator.url}/products?limit=1`, simulator.headers)) as {
    products: { external_product_id: string }[]
  }
  const productUrl = `${neighbour.url}/v1/catalog/products/${encodeURIComponent(products[0]?.external_product_id ?? '')}`
  const auth = { authorization: `Bearer ${customer.token}` }
  const neighbourTargets: LoadTarget[] = [
    { url: `${neighbour.url}/healthz`, expectBody: await expected(`${neighbour.url}/healthz`) },
    { url: productUrl, expectBody: await expected(productUrl) },
  ]
  const pair = [
    {
      name: 'reply-from',
      target: {
        url: `${proxy.url}/customers/${customer.id}`,
        expectBody: await expected(`${simulator.url}/customers/${customer.id}`, simulator.headers),
      },
      pids: [proxy.pid],
    },
    {
      name: 'bridge',
      target: {
        url: `${bridge.url}/v1/portal/url`,
        headers: auth,
        expectBody: await expected(`${bridge.url}/v1/portal/url`, auth),
      },
      pids: [bridge.process.child.pid ?? 0, redis.pid ?? 0],
    },
  ]

  for (const target of [...neighbourTargets, ...pair.map((side) => side.target)]) {
    await runLoad(target, { ...load, durationS: 5 })
  }
  const results: PairRound[] = []
  for (let round = 1; round <= rounds; round++) {
    const neighbourLoaded = round % 2 === 1
    if (neighbourLoaded) {
      for (const target of neighbourTargets) await runLoad(target, { ...load, durationS: warmupS + seconds })
    }
    const measured: { rps: number; cpu: number }[] = []
    for (const side of pair) {
      await runLoad(side.target, { ...load, durationS: warmupS })
      const before = cpuMicrosOf(side.pids)
      const sample = await runLoad(side.target, { ...load, durationS: seconds })
      const after = cpuMicrosOf(side.pids)
      const failed = sample.non2xx + sample.mismatches + sample.errors + sample.timeouts
      if (failed > 0) throw new Error(`${side.name}: ${failed} requests without the expected answer`)
      const cpu = before === null || after === null ? Number.NaN : (after - before) / Math.max(1, sample.requests)
      measured.push({ rps: sample.rps, cpu })
    }
    const [proxySide, bridgeSide] = measured as [{ rps: number; cpu: number }, { rps: number; cpu: number }]
    results.push({
      neighbourLoaded,
      rpsRatio: bridgeSide.rps / proxySide.rps,
      perCpuSecondRatio: proxySide.cpu / bridgeSide.cpu,
    })
    log(
      `  round ${round} ${neighbourLoaded ? 'after neighbour load' : 'alone               '} reply-from ${Math.round(proxySide.rps)} req/s ${proxySide.cpu.toFixed(1)} µs · bridge ${Math.round(bridgeSide.rps)} req/s ${bridgeSide.cpu.toFixed(1)} µs`,
    )
  }

  const half = (loaded: boolean) => {
    const list = results.filter((result) => result.neighbourLoaded === loaded)
    return {
      rounds: list.length,
      rpsRatio: median(list.map((result) => result.rpsRatio)),
      perCpuSecondRatio: median(list.map((result) => result.perCpuSecondRatio)),
    }
  }
  const result = {
    at: new Date().toISOString(),
    settings: { rounds, seconds, warmupS, connections: load.connections },
    afterNeighbourLoad: half(true),
    alone: half(false),
    rounds: results,
  }
  const markdown = [
    `# The uncached route vs reply-from, with and without load on a neighbour bridge (${result.at})`,
    '',
    `Reproduce: \`node bench/steady/interference.ts --rounds ${rounds} --seconds ${seconds} --warmup ${warmupS}\``,
    '',
    '| rounds | count | bridge ÷ reply-from, req/s (median) | requests per CPU-second (median) |',
    '| --- | --- | --- | --- |',
    ...(
      [
        ['after the neighbour’s floor and L1-hit load', result.afterNeighbourLoad],
        ['alone', result.alone],
      ] as const
    ).map(
      ([name, half]) =>
        `| ${name} | ${half.rounds} | ${half.rpsRatio.toFixed(3)} | ${half.perCpuSecondRatio.toFixed(3)} |`,
    ),
    '',
    `Per round (req/s ratio): ${results.map((r) => `${r.neighbourLoaded ? 'N' : '-'} ${r.rpsRatio.toFixed(3)}`).join(', ')} (N: after neighbour load).`,
    '',
  ].join('\n')
  writeFileSync(`${repoRoot}bench/results/interference.json`, `${JSON.stringify(result, null, 2)}\n`)
  writeFileSync(`${repoRoot}bench/results/interference.md`, markdown)
  process.stdout.write(markdown)
} finally {
  await stopAll()
  await redis.stop()
}
