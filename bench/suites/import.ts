/**
 * Import benchmark at Recharge's real budget (bucket 40, 2 calls/s): a run of N records, half of them for customers
 * who already exist in Recharge (the simulator's generated shoppers, with their card and address), imported through
 * one bridge (`dist/server.js`) in the background lane while shoppers read their accounts through the same bridge.
 * Reports upstream calls per record (new vs existing customer), the share of the budget the import used (its calls ÷
 * 2/s × elapsed), total time and its extrapolation to 5,000 records, and the shoppers' answers (all 200?) with
 * their latency and the queue's interactive wait p95.
 *
 *   npm run bench -- --only import -- [--records 300] [--shoppers 5] [--read-every 10]
 *
 * 5,000 records at 2 calls/s take about two hours: --records sets how many run; the report scales the time up.
 * Results: bench/results/import.json and .md
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { mintCustomerToken, secretKey } from '../../src/identity/customer-token.ts'
import type { LedgerEntry } from '../../src/simulator/ledger.ts'
import { DisposableRedis } from '../../tools/redis-server.ts'
import { BENCH_ADMIN_API_KEY, startBridge } from '../harness/bridge.ts'
import { repoRoot, stopAll } from '../harness/processes.ts'
import { startSimulator } from '../harness/simulator.ts'
import { budgetShares, importMarkdown } from '../report/import-table.ts'

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '300' },
    shoppers: { type: 'string', default: '5' },
    'read-every': { type: 'string', default: '10' },
  },
})
const records = Number(values.records)
const shoppers = Number(values.shoppers)
const readEveryS = Number(values['read-every'])
const bucketSize = 40
const leakRate = 2
const METRICS_TOKEN = 'bench-metrics-token-0123456789'
const log = (line: string) => process.stderr.write(`${line}\n`)

interface SeededShopper {
  email: string
  first_name: string
  last_name: string
  external_customer_id: string | null
  method: Record<string, unknown> & { billing_address: Record<string, string | null> }
  address: Record<string, string | null>
}

function address(source: Record<string, string | null>) {
  const out: Record<string, string> = {}
  for (const key of ['first_name', 'last_name', 'address1', 'address2', 'city', 'province', 'zip', 'country_code'])
    if (typeof source[key] === 'string' && source[key] !== '') out[key] = source[key] as string
  return out
}

const line = { external_product_id: '7100000001', external_variant_id: '7200000011', quantity: 1 }

function newCustomerRecord(n: number) {
  const shipping = {
    first_name: 'Nova',
    last_name: `Buyer${n}`,
    address1: `${n} Import Way`,
    city: 'Portland',
    province: 'Oregon',
    zip: '97201',
    country_code: 'US',
  }
  return {
    external_order_id: `bench-new-${n}`,
    order_date: '2026-11-20',
    customer: { email: `bench-new-${n}@example.com`, first_name: 'Nova', last_name: `Buyer${n}` },
    payment_method: {
      processor_name: 'stripe',
      processor_customer_token: `cus_benchnew${n}`,
      processor_payment_method_token: `pm_benchnew${n}`,
      billing_address: shipping,
    },
    shipping_address: shipping,
    lines: [{ ...line, frequency: { unit: 'month', every: 1 } }],
  }
}

/** A migrated subscriber who is already a Recharge customer: same card, same address, a new subscription. */
function existingCustomerRecord(n: number, shopper: SeededShopper) {
  return {
    external_order_id: `bench-existing-${n}`,
    order_date: '2026-11-20',
    customer: {
      email: shopper.email,
      first_name: shopper.first_name,
      last_name: shopper.last_name,
      ...(shopper.external_customer_id ? { external_customer_id: shopper.external_customer_id } : {}),
    },
    payment_method: {
      processor_name: shopper.method.processor_name,
      processor_customer_token: shopper.method.processor_customer_token,
      processor_payment_method_token: shopper.method.processor_payment_method_token,
      billing_address: address(shopper.method.billing_address),
    },
    shipping_address: address(shopper.address),
    lines: [{ ...line, frequency: { unit: 'week', every: 2 } }],
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number
}

/** The upper bound of the histogram bucket holding the p-th percentile of the interactive queue wait. */
function histogramPercentile(metricsText: string, p: number): number | null {
  const buckets: [number, number][] = []
  for (const row of metricsText.split('\n')) {
    const match = row.match(/^recharge_bridge_recharge_queue_wait_seconds_bucket\{(.*)\} (\d+)/)
    if (!match?.[1]?.includes('lane="interactive"')) continue
    const le = match[1].match(/le="([^"]+)"/)?.[1]
    buckets.push([le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), Number(match[2])])
  }
  const total = buckets.find(([le]) => le === Number.POSITIVE_INFINITY)?.[1] ?? 0
  if (total === 0) return null
  return buckets.sort((a, b) => a[0] - b[0]).find(([, count]) => count >= (p / 100) * total)?.[0] ?? null
}

function isImportCall(entry: LedgerEntry): boolean {
  return (
    (entry.method === 'POST' &&
      ['/customers', '/payment_methods', '/addresses', '/subscriptions'].includes(entry.path)) ||
    (entry.method === 'GET' && entry.path === '/customers' && entry.query.include !== undefined)
  )
}

const redis = await DisposableRedis.start()
try {
  const existingCount = Math.floor(records / 2)
  const simulator = await startSimulator({ bucketSize, leakRate, seedCustomers: existingCount + shoppers })
  const bridge = await startBridge({
    name: 'import',
    simulator,
    redisUrl: redis.url,
    bucketSize,
    leakRate,
    extraEnv: { METRICS_TOKEN },
  })
  const state = (await (await fetch(`${simulator.url}/__sim/state`)).json()) as {
    customers: {
      id: number
      email: string
      first_name: string
      last_name: string
      external_customer_id: { ecommerce: string | null }
    }[]
    payment_methods: (SeededShopper['method'] & { customer_id: number })[]
    addresses: (Record<string, string | null> & { customer_id: number })[]
  }
  const seeded: SeededShopper[] = state.customers
    .filter((customer) => customer.email.startsWith('shopper'))
    .sort((a, b) => a.id - b.id)
    .map((customer) => ({
      email: customer.email,
      first_name: customer.first_name,
      last_name: customer.last_name,
      external_customer_id: customer.external_customer_id.ecommerce,
      method: state.payment_methods.find((method) => method.customer_id === customer.id) as SeededShopper['method'],
      address: state.addresses.find((row) => Number(row.customer_id) === customer.id) as SeededShopper['address'],
    }))
  const input = Array.from({ length: records }, (_, n) =>
    n % 2 === 1 && seeded[Math.floor(n / 2)]
      ? existingCustomerRecord(n, seeded[Math.floor(n / 2)] as SeededShopper)
      : newCustomerRecord(n),
  )
  const readers = seeded.slice(existingCount, existingCount + shoppers)
  const secret = secretKey('bench-customer-token-secret-0123456789abcdef')
  const tokens = await Promise.all(
    readers.map(
      async (reader) =>
        (await mintCustomerToken({ kind: 'email', email: reader.email }, secret, { lifetimeS: 7200 })).token,
    ),
  )

  const ledgerBefore = (await simulator.ledger()).length
  const started = Date.now()
  const created = await fetch(`${bridge.url}/v1/admin/imports`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_ADMIN_API_KEY}`, 'content-type': 'application/x-ndjson' },
    body: `${input.map((record) => JSON.stringify(record)).join('\n')}\n`,
  })
  if (created.status !== 202) throw new Error(`import not accepted: ${created.status} ${await created.text()}`)
  const { id } = (await created.json()) as { id: string }
  log(`import ${id}: ${records} records (${existingCount} for existing customers), ${shoppers} shoppers reading`)

  // Shoppers: each reads their account (GET /v1/me, then /v1/subscriptions) every few seconds until the import ends.
  let importing = true
  const shopperResults: { status: number; ms: number }[] = []
  const readersDone = tokens.map(async (token, index) => {
    await new Promise((resolve) => setTimeout(resolve, index * 500))
    while (importing) {
      for (const path of ['/v1/me', '/v1/subscriptions']) {
        const at = performance.now()
        const response = await fetch(`${bridge.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
        await response.arrayBuffer()
        shopperResults.push({ status: response.status, ms: performance.now() - at })
      }
      await new Promise((resolve) => setTimeout(resolve, readEveryS * 1000))
    }
  })

  let run: Record<string, number | string> = {}
  let lastLog = 0
  while (true) {
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    const response = await fetch(`${bridge.url}/v1/admin/imports/${id}`, {
      headers: { authorization: `Bearer ${BENCH_ADMIN_API_KEY}` },
    })
    run = (await response.json()) as typeof run
    const done = Number(run.done)
    if (Date.now() - lastLog > 15_000) {
      lastLog = Date.now()
      const elapsed = (Date.now() - started) / 1000
      const eta = done > 0 ? Math.round((elapsed / done) * (records - done)) : '-'
      log(`  ${done}/${records} records, ${run.failed} failed, ${Math.round(elapsed)} s, ETA ${eta} s`)
    }
    if (run.state === 'done') break
  }
  const elapsedS = (Date.now() - started) / 1000
  importing = false
  await Promise.all(readersDone)

  const ledger = (await simulator.ledger()).slice(ledgerBefore)
  const importCalls = ledger.filter(isImportCall)
  const refused = ledger.filter((entry) => entry.status === 429).length
  const metricsText = await (
    await fetch(`${bridge.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  ).text()
  const latencies = shopperResults.map((result) => result.ms).sort((a, b) => a - b)
  const statuses: Record<string, number> = {}
  for (const result of shopperResults) statuses[result.status] = (statuses[result.status] ?? 0) + 1

  const perNew = Number(run.new_customer_calls) / Math.max(1, Number(run.new_customer_records))
  const perExisting = Number(run.existing_customer_calls) / Math.max(1, Number(run.existing_customer_records))
  const result = {
    at: new Date().toISOString(),
    settings: { records, existingCustomers: existingCount, shoppers, readEveryS, bucketSize, leakRate },
    run,
    elapsedS,
    extrapolatedTo5000S: (elapsedS / records) * 5000,
    // The floor: 5,000 records of this mix at the whole budget, no shoppers (calls ÷ leak rate).
    floorFor5000S: ((Number(run.calls) / records) * 5000) / leakRate,
    callsPerRecord: { newCustomer: perNew, existingCustomer: perExisting, all: Number(run.calls) / records },
    upstream: budgetShares(ledger.length, importCalls.length, refused, elapsedS),
    shoppers: {
      requests: shopperResults.length,
      statuses,
      p50Ms: percentile(latencies, 50),
      p95Ms: percentile(latencies, 95),
      maxMs: latencies.at(-1) ?? null,
      interactiveQueueWaitP95S: histogramPercentile(metricsText, 95),
    },
  }
  const markdown = importMarkdown(result)
  writeFileSync(`${repoRoot}bench/results/import.json`, `${JSON.stringify(result, null, 2)}\n`)
  writeFileSync(`${repoRoot}bench/results/import.md`, markdown)
  process.stdout.write(markdown)
} finally {
  await stopAll()
  await redis.stop()
}
