/**
 * Catalog sync benchmark: a 1,000-product feed synced into the simulator through the real Recharge client and queue,
 * at the simulator's real rate (bucket 40, 2 calls/s) by default. Measures upstream calls per changed item and wall
 * time against the rate-limit floor (calls ÷ leak rate), as a ratio, for:
 *   initial   — empty catalog → 1,000 products with their plans (plan writes by async batch: strategy auto)
 *   unchanged — the same feed again (reads only, 0 writes)
 *   modified  — 5 % of products get a new price, 5 % a new discount
 * With `--compressed` it runs time-compressed (bucket 40, 100 calls/s) and adds the per-product plans-bulk strategy
 * side by side, which at the real rate would take ~17 minutes on its own.
 *
 *   npm run bench -- --only catalog-sync -- [--products 1000] [--compressed]
 *
 * Results: bench/results/catalog[-compressed].json and .md
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { sampleFeed } from '../../src/catalog/sample-feed.ts'
import { runCatalogSync } from '../../src/catalog/sync/engine.ts'
import type { SyncStateStore } from '../../src/catalog/sync/state-store.ts'
import type { PlanStrategy, SyncJobStatus, SyncReport } from '../../src/catalog/sync/types.ts'
import { createRecharge } from '../../src/recharge/create.ts'
import { buildSimulator } from '../../src/simulator/app.ts'

const { values } = parseArgs({
  options: { products: { type: 'string', default: '1000' }, compressed: { type: 'boolean', default: false } },
})
const products = Number(values.products)
const compressed = values.compressed ?? false
const bucketSize = 40
const leakRate = compressed ? 100 : 2

/** Checkpoints in memory: the bench measures upstream calls, not the state store. */
function memoryState(): SyncStateStore {
  let checkpoint: Awaited<ReturnType<SyncStateStore['loadCheckpoint']>> = null
  const jobs = new Map<string, SyncJobStatus>()
  return {
    acquire: async () => ({ ok: true }),
    renew: async () => true,
    release: async () => {},
    loadCheckpoint: async () => checkpoint,
    saveCheckpoint: async (next) => {
      checkpoint = next
    },
    clearCheckpoint: async () => {
      checkpoint = null
    },
    saveJob: async (status) => {
      jobs.set(status.id, status)
    },
    loadJob: async (id) => jobs.get(id) ?? null,
  }
}

interface Row {
  scenario: string
  strategy: PlanStrategy
  report: SyncReport
  /** Floor counting the bucket's initial burst: max(0, calls − bucket) ÷ rate. */
  burstFloorMs: number
}

async function scenario(name: string, strategy: PlanStrategy, feed: unknown, url: string, token: string): Promise<Row> {
  const stack = createRecharge({ baseUrl: url, token, apiVersion: '2021-11', bucketSize, leakRate })
  try {
    let last = 0
    const report = await runCatalogSync(
      { transport: stack.client.transport, state: memoryState(), leakRate, batchPollMs: 500 },
      {
        jobId: `${name}-${strategy}`,
        feed,
        planStrategy: strategy,
        onProgress: (progress) => {
          const now = Date.now()
          if (now - last < 5_000) return
          last = now
          process.stderr.write(
            `  ${name}/${strategy}: ${progress.phase} ${progress.writes}/${progress.totalWrites} writes, ETA ${progress.etaSeconds ?? '-'} s\n`,
          )
        },
      },
    )
    // Only the first run against a fresh simulator starts with a full bucket; later runs find it drained.
    const burst = name === 'initial' ? bucketSize : 0
    const burstFloorMs = Math.round((Math.max(0, report.calls.total - burst) / leakRate) * 1000)
    process.stderr.write(
      `${name}/${strategy}: ${report.calls.total} calls (${report.calls.writes} writes) in ${(report.durationMs / 1000).toFixed(1)} s, floor ${(report.floorMs / 1000).toFixed(1)} s, ratio ${report.floorRatio}\n`,
    )
    return { scenario: name, strategy, report, burstFloorMs }
  } finally {
    await stack.close(1_000)
  }
}

function modify(feed: ReturnType<typeof sampleFeed>) {
  const next = structuredClone(feed)
  next.products.forEach((product, i) => {
    if (i % 20 === 0 && product.variants[0])
      product.variants[0].price = (Number(product.variants[0].price) + 1).toFixed(2)
    if (i % 20 === 10 && product.offers[0]) product.offers[0].discount = { type: 'percentage', amount: '12' }
  })
  return next
}

const rows: Row[] = []
const strategies: PlanStrategy[] = compressed ? ['auto', 'bulk'] : ['auto']
for (const strategy of strategies) {
  const sim = await buildSimulator({ apiTokens: ['sk_bench_catalog'], bucketSize, leakRate })
  const url = await sim.listen({ port: 0, host: '127.0.0.1' })
  const feed = sampleFeed({ products, prefix: 'bench' })
  try {
    rows.push(await scenario('initial', strategy, feed, url, 'sk_bench_catalog'))
    rows.push(await scenario('unchanged', strategy, feed, url, 'sk_bench_catalog'))
    rows.push(await scenario('modified', strategy, modify(feed), url, 'sk_bench_catalog'))
  } finally {
    await sim.close()
  }
}

const label = compressed ? 'catalog-compressed' : 'catalog'
const header = `# Catalog sync benchmark${compressed ? ' (time-compressed)' : ''}

Run ${new Date().toISOString()} · Node ${process.version} · ${products} products (2 variants, 3–5 plans each) · simulator bucket ${bucketSize}, leak ${leakRate}/s${compressed ? ' (time-compressed; the real budget is 2/s)' : ' (the real Recharge budget)'} · client: the bridge's Recharge client and queue (background lane), in-process budget

| scenario | plan writes | changed items | calls (reads / writes) | calls per changed item | wall time | floor = calls ÷ rate | wall ÷ floor | floor with burst | wall ÷ burst floor |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
`
const lines = rows.map(({ scenario: name, strategy, report, burstFloorMs }) => {
  const s = report.strategy
  const writesVia =
    strategy === 'bulk'
      ? 'plans-bulk per product'
      : `auto (create ${s.planCreates}, update ${s.planUpdates}, delete ${s.planDeletes})`
  return `| ${name} | ${writesVia} | ${report.changedItems} | ${report.calls.total} (${report.calls.reads} / ${report.calls.writes}) | ${report.callsPerChangedItem ?? '–'} | ${(report.durationMs / 1000).toFixed(1)} s | ${(report.floorMs / 1000).toFixed(1)} s | ${report.floorRatio ?? '–'} | ${(burstFloorMs / 1000).toFixed(1)} s | ${burstFloorMs > 0 ? (report.durationMs / burstFloorMs).toFixed(3) : '–'} |`
})
const notes = `
- changed items = product writes + plan writes (each plan counts once); the initial run also deletes the simulator's seeded products.
- floor = every upstream call (reads and writes) ÷ the leak rate; "with burst" subtracts the ${bucketSize} calls the full bucket absorbs at once (initial run only: the later runs start with the bucket the previous run drained).
- wall ÷ floor near 1 means the sync runs as fast as the token's budget allows; the background lane keeps a quarter of the bucket free for shoppers, which shows in the burst-adjusted ratio.
- reproduce: \`npm run bench -- --only catalog-sync --${compressed ? ' --compressed' : ''} --products ${products}\`
`
mkdirSync('bench/results', { recursive: true })
writeFileSync(`bench/results/${label}.json`, `${JSON.stringify({ products, bucketSize, leakRate, rows }, null, 2)}\n`)
writeFileSync(`bench/results/${label}.md`, `${header}${lines.join('\n')}\n${notes}`)
process.stdout.write(`${header}${lines.join('\n')}\n${notes}`)
