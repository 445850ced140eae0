/** The import suite's figures (bench/suites/import.ts): budget shares and the results table. */

const BUCKET = 40
const LEAK = 2

/**
 * What the budget allowed over the run is the bucket's first burst plus the leak: 40 + 2/s × elapsed. The import's
 * share of the background budget is its calls over what the other callers (shoppers, the bridge's own start-up) left.
 */
export function budgetShares(all: number, imported: number, refused429: number, elapsedS: number) {
  const allowed = BUCKET + LEAK * elapsedS
  return {
    all,
    import: imported,
    refused429,
    allowed,
    importShareOfBudget: imported / allowed,
    importShareOfBackgroundBudget: imported / (allowed - (all - imported)),
    allShareOfBudget: all / allowed,
  }
}

export interface ImportBenchResult {
  at: string
  settings: { records: number; existingCustomers: number; shoppers: number; readEveryS: number }
  run: Record<string, number | string>
  elapsedS: number
  extrapolatedTo5000S: number
  floorFor5000S: number
  callsPerRecord: { newCustomer: number; existingCustomer: number; all: number }
  upstream: ReturnType<typeof budgetShares>
  shoppers: {
    requests: number
    statuses: Record<string, number>
    p50Ms: number
    p95Ms: number
    maxMs: number | null
    interactiveQueueWaitP95S: number | null
  }
}

export function importMarkdown(result: ImportBenchResult): string {
  const { settings, run, upstream, shoppers } = result
  const pct = (value: number) => `${(value * 100).toFixed(1)} %`
  const hours = (seconds: number) => `${(seconds / 3600).toFixed(2)} h`
  return [
    `# Import at Recharge's real budget (${result.at})`,
    '',
    `Reproduce: \`npm run bench -- --only import -- --records ${settings.records} --shoppers ${settings.shoppers} --read-every ${settings.readEveryS}\` (bucket ${BUCKET}, ${LEAK} calls/s; one bridge, dist/server.js; simulator as a process)`,
    '',
    '| measure | value | goal |',
    '| --- | --- | --- |',
    `| records (half for existing customers: same card and address, a new subscription) | ${settings.records} (${settings.existingCustomers} existing) | |`,
    `| created / found / failed | ${run.created} / ${run.found} / ${run.failed} | 0 failed |`,
    `| upstream calls per record, new customer | ${result.callsPerRecord.newCustomer.toFixed(2)} | ≤ 4 |`,
    `| upstream calls per record, existing customer | ${result.callsPerRecord.existingCustomer.toFixed(2)} | fewer than new |`,
    `| import calls ÷ what the other callers left of the budget (40 + 2/s × elapsed): the background budget used | ${pct(upstream.importShareOfBackgroundBudget)} | ≥ 90 % |`,
    `| import calls ÷ the whole budget | ${pct(upstream.importShareOfBudget)} | |`,
    `| all calls ÷ the whole budget | ${pct(upstream.allShareOfBudget)} | |`,
    `| upstream calls: import / others (shoppers' reads, the bridge's start-up webhook registration and catalog reads) | ${upstream.import} / ${upstream.all - upstream.import} | |`,
    `| upstream 429s | ${upstream.refused429} | 0 |`,
    `| total time, ${settings.records} records | ${(result.elapsedS / 60).toFixed(1)} min | |`,
    `| **extrapolated** to 5,000 records (same mix, same shoppers, linear) | ${hours(result.extrapolatedTo5000S)} | |`,
    `| **extrapolated** floor for 5,000 records (same mix, whole budget, no shoppers: calls ÷ 2/s) | ${hours(result.floorFor5000S)} | |`,
    `| shopper reads during the import (${settings.shoppers} shoppers, GET /v1/me + /v1/subscriptions every ${settings.readEveryS} s) | ${shoppers.requests}, statuses ${JSON.stringify(shoppers.statuses)} | all 200 |`,
    `| shopper read latency p50 / p95 / max | ${shoppers.p50Ms.toFixed(0)} / ${shoppers.p95Ms.toFixed(0)} / ${(shoppers.maxMs ?? 0).toFixed(0)} ms | |`,
    `| interactive queue wait p95 (upper bound of its histogram bucket) | ${shoppers.interactiveQueueWaitP95S === null ? 'no interactive call' : `≤ ${shoppers.interactiveQueueWaitP95S} s`} | |`,
    '',
  ].join('\n')
}
