/**
 * Does load on another bridge process change the uncached route's ratio to reply-from? The full suite runs the floor
 * and L1-hit modes on bridge A at 30,000+ req/s earlier in every round; measured alone, the P5 pair comes out higher.
 *
 *   npm run bench -- --only interference -- [--rounds 10] [--seconds 5] [--warmup 2]
 *
 * Starts one simulator and one private redis-server, a neighbour bridge (the catalog product cached in its L1), one
 * bridge and one reply-from proxy for the pair. Each round loads, one after another, as the full suite does: (odd
 * rounds only) the neighbour's GET /healthz and its L1-hit product route, then reply-from's GET /customers/:id, then
 * the bridge's GET /v1/portal/url (c=50, p=1, every body verified). Odd and even rounds alternate in one run, so both
 * halves see the same processes and the same drift of the machine. Writes bench/results/interference.{json,md}.
 */
import { writeFileSync } from 'node:fs'
import { cpuMicrosOf } from '../harness/cpu.ts'
import { type LoadTarget, median, runLoad } from '../harness/load.ts'
import { expectOk, numericOptions, withPairBench } from '../harness/pair.ts'
import { repoRoot } from '../harness/processes.ts'

const { rounds, seconds, warmup: warmupS } = numericOptions({ rounds: 10, seconds: 5, warmup: 2 })
const load = { connections: 50 }

interface PairRound {
  neighbourLoaded: boolean
  /** bridge req/s ÷ reply-from req/s, and reply-from CPU per request ÷ the bridge's. */
  rpsRatio: number
  perCpuSecondRatio: number
}

await withPairBench(async ({ simulator, bridge, proxy, log }) => {
  const [neighbour, bridgeSide, proxySide] = await Promise.all([
    bridge('neighbour'),
    bridge('bridge'),
    proxy('reply-from'),
  ])
  const { products } = JSON.parse(await expectOk(`${simulator.url}/products?limit=1`, simulator.headers)) as {
    products: { external_product_id: string }[]
  }
  const neighbourUrl = neighbour.process.url
  const productUrl = `${neighbourUrl}/v1/catalog/products/${encodeURIComponent(products[0]?.external_product_id ?? '')}`
  const neighbourTargets: LoadTarget[] = [
    { url: `${neighbourUrl}/healthz`, expectBody: await expectOk(`${neighbourUrl}/healthz`) },
    { url: productUrl, expectBody: await expectOk(productUrl) },
  ]
  const pair = [proxySide, bridgeSide]

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
    const [proxied, bridged] = measured as [{ rps: number; cpu: number }, { rps: number; cpu: number }]
    results.push({
      neighbourLoaded,
      rpsRatio: bridged.rps / proxied.rps,
      perCpuSecondRatio: proxied.cpu / bridged.cpu,
    })
    log(
      `  round ${round} ${neighbourLoaded ? 'after neighbour load' : 'alone               '} reply-from ${Math.round(proxied.rps)} req/s ${proxied.cpu.toFixed(1)} µs · bridge ${Math.round(bridged.rps)} req/s ${bridged.cpu.toFixed(1)} µs`,
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
    `Reproduce: \`npm run bench -- --only interference -- --rounds ${rounds} --seconds ${seconds} --warmup ${warmupS}\``,
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
})
