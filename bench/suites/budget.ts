/**
 * The budget under attack: Recharge's real budget (a 40-call bucket leaking 2 a second) in a simulator of its own,
 * one production bridge process, and beside it the same load on a plain token-adding reply-from proxy (what a
 * merchant would otherwise deploy) in front of a second, identical simulator. Two phases per target, each
 * `PHASE_S` long, with the simulator reset in between:
 *
 *   flood   an anonymous client asks for made-up product ids as fast as ATTACK_CONNECTIONS connections go, while
 *           every seeded shopper reads their own data once a second;
 *   probe   one signed-in shopper asks for other shoppers' records as fast as PROBE_CONNECTIONS go (through the
 *           proxy: other customers' records), while the other shoppers read as above.
 *
 * Reported per target and phase: the shoppers' success rate (200s), what the attacker got, and how many calls
 * Recharge received (the simulator's ledger count), with how many it refused with 429.
 */
import { writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { mintCustomerToken, secretKey } from '../../src/shopper/customer-token.ts'
import { startBridge } from '../harness/bridge.ts'
import { repoRoot } from '../harness/processes.ts'
import { startBaseline } from '../harness/setup.ts'
import { type SimulatorProcess, startSimulator } from '../harness/simulator.ts'
import type { RunContext } from '../harness/types.ts'

const BUCKET = 40
const LEAK_RATE = 2
const ATTACK_CONNECTIONS = 20
const PROBE_CONNECTIONS = 4
/** Must match bench/harness/bridge.ts (the bridge verifies the tokens minted here). */
const CUSTOMER_TOKEN_SECRET = 'bench-customer-token-secret-0123456789abcdef'

export interface PhaseSample {
  shopperRequests: number
  shopperOk: number
  shopperSuccessRate: number
  attackerRequests: number
  attackerStatuses: Record<string, number>
  upstreamCalls: number
  upstream429: number
}

export interface BudgetResult {
  bucket: number
  leakRatePerS: number
  phaseS: number
  bridge: { flood: PhaseSample; probe: PhaseSample }
  proxy: { flood: PhaseSample; probe: PhaseSample }
}

interface Shopper {
  id: number
  email: string
  token: string
}

/** What one target is asked for: the shoppers' own read and the attacker's requests. */
interface Target {
  url: string
  simulator: SimulatorProcess
  shopperRead(shopper: Shopper): { path: string; headers: Record<string, string> }
  madeUpProduct(index: number): string
  /** The prober's request for another shopper's record: their subscription (bridge) or customer (proxy). */
  foreignRecord(
    prober: Shopper,
    foreign: { subscription: number; customer: number },
  ): {
    path: string
    headers: Record<string, string>
  }
}

async function status(url: string, headers: Record<string, string> = {}): Promise<number> {
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) })
    await response.arrayBuffer()
    return response.status
  } catch {
    return 0
  }
}

async function shoppers(simulator: SimulatorProcess): Promise<Shopper[]> {
  const response = await fetch(`${simulator.url}/customers?limit=50`, { headers: simulator.headers })
  const { customers } = (await response.json()) as { customers: { id: number; email: string }[] }
  return Promise.all(
    customers.map(async (customer) => ({
      ...customer,
      token: (
        await mintCustomerToken({ kind: 'email', email: customer.email }, secretKey(CUSTOMER_TOKEN_SECRET), {
          lifetimeS: 3600,
        })
      ).token,
    })),
  )
}

async function subscriptionIds(simulator: SimulatorProcess): Promise<{ id: number; customer_id: number }[]> {
  const response = await fetch(`${simulator.url}/subscriptions?limit=250`, { headers: simulator.headers })
  return ((await response.json()) as { subscriptions: { id: number; customer_id: number }[] }).subscriptions
}

async function resetSimulator(simulator: SimulatorProcess): Promise<void> {
  const response = await fetch(`${simulator.url}/__sim/reset`, { method: 'POST' })
  if (!response.ok) throw new Error(`simulator reset → ${response.status}`)
}

/** Run the attack and the shoppers' reads for `seconds`; count what each got and what Recharge received. */
async function phase(
  target: Target,
  seconds: number,
  readers: Shopper[],
  attack: { connections: number; next: (index: number) => { path: string; headers: Record<string, string> } },
): Promise<PhaseSample> {
  const before = await target.simulator.ledger()
  const recordedBefore = await target.simulator.recorded()
  const until = Date.now() + seconds * 1000
  const attackerStatuses: Record<string, number> = {}
  let attackerRequests = 0
  let sent = 0
  const attacker = Array.from({ length: attack.connections }, async () => {
    while (Date.now() < until) {
      const request = attack.next(sent++)
      const code = await status(`${target.url}${request.path}`, request.headers)
      attackerRequests++
      attackerStatuses[code] = (attackerStatuses[code] ?? 0) + 1
    }
  })
  let shopperRequests = 0
  let shopperOk = 0
  const reading = readers.map(async (shopper, index) => {
    await sleep((index * 1000) / readers.length)
    while (Date.now() < until) {
      const request = target.shopperRead(shopper)
      const code = await status(`${target.url}${request.path}`, request.headers)
      shopperRequests++
      if (code === 200) shopperOk++
      await sleep(1000)
    }
  })
  await Promise.all([...attacker, ...reading])
  const upstreamCalls = (await target.simulator.recorded()) - recordedBefore
  // The ledger list keeps the latest entries: enough for the 429 count of a phase at this budget.
  const after = await target.simulator.ledger()
  const upstream429 = after.slice(before.length).filter((entry) => entry.status === 429).length
  return {
    shopperRequests,
    shopperOk,
    shopperSuccessRate: shopperRequests === 0 ? 0 : shopperOk / shopperRequests,
    attackerRequests,
    attackerStatuses,
    upstreamCalls,
    upstream429,
  }
}

async function measure(target: Target, seconds: number): Promise<{ flood: PhaseSample; probe: PhaseSample }> {
  const all = await shoppers(target.simulator)
  const subscriptions = await subscriptionIds(target.simulator)
  await resetSimulator(target.simulator)
  const flood = await phase(target, seconds, all, {
    connections: ATTACK_CONNECTIONS,
    next: (index) => ({ path: target.madeUpProduct(index), headers: {} }),
  })
  await resetSimulator(target.simulator)
  // A few seconds for the bridge's shared book to drain what the flood phase booked.
  await sleep(5_000)
  const [prober, ...readers] = all as [Shopper, ...Shopper[]]
  const foreignSubscriptions = subscriptions.filter((row) => row.customer_id !== prober.id).map((row) => row.id)
  const foreignCustomers = readers.map((shopper) => shopper.id)
  const probe = await phase(target, seconds, readers, {
    connections: PROBE_CONNECTIONS,
    next: (index) =>
      target.foreignRecord(prober, {
        subscription: foreignSubscriptions[index % foreignSubscriptions.length] as number,
        customer: foreignCustomers[index % foreignCustomers.length] as number,
      }),
  })
  return { flood, probe }
}

export async function budgetSuite(run: RunContext, phaseS = 15): Promise<BudgetResult> {
  const [bridgeSimulator, proxySimulator] = await Promise.all([
    startSimulator({ bucketSize: BUCKET, leakRate: LEAK_RATE, apiToken: 'sk_bench_budget_bridge' }),
    startSimulator({ bucketSize: BUCKET, leakRate: LEAK_RATE, apiToken: 'sk_bench_budget_proxy' }),
  ])
  const bridge = await startBridge({
    name: 'budget',
    simulator: bridgeSimulator,
    redisUrl: run.redis.url,
    bucketSize: BUCKET,
    leakRate: LEAK_RATE,
  })
  const proxy = await startBaseline('proxy', { SIM_URL: proxySimulator.url, SIM_TOKEN: proxySimulator.apiToken })
  const madeUp = (index: number) => `made-up-${index}`

  run.log('  budget: bridge')
  const bridgeResult = await measure(
    {
      url: bridge.url,
      simulator: bridgeSimulator,
      shopperRead: (shopper) => ({ path: '/v1/subscriptions', headers: { authorization: `Bearer ${shopper.token}` } }),
      madeUpProduct: (index) => `/v1/catalog/products/${madeUp(index)}`,
      foreignRecord: (prober, foreign) => ({
        path: `/v1/subscriptions/${foreign.subscription}`,
        headers: { authorization: `Bearer ${prober.token}` },
      }),
    },
    phaseS,
  )
  run.log('  budget: reply-from proxy')
  // The proxy knows no shoppers: a shopper's read is their customer record, a probe is another customer's.
  const proxyResult = await measure(
    {
      url: proxy.url,
      simulator: proxySimulator,
      shopperRead: (shopper) => ({ path: `/customers/${shopper.id}`, headers: {} }),
      madeUpProduct: (index) => `/products/${madeUp(index)}`,
      foreignRecord: (_prober, foreign) => ({ path: `/customers/${foreign.customer}`, headers: {} }),
    },
    phaseS,
  )
  const result: BudgetResult = {
    bucket: BUCKET,
    leakRatePerS: LEAK_RATE,
    phaseS,
    bridge: bridgeResult,
    proxy: proxyResult,
  }
  writeFileSync(`${repoRoot}bench/results/budget.json`, `${JSON.stringify(result, null, 2)}\n`)
  return result
}

function row(target: string, phaseName: string, sample: PhaseSample): string {
  const attacker = Object.entries(sample.attackerStatuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, count]) => `${count.toLocaleString('en-US')} × ${code === '0' ? 'error' : code}`)
    .join(', ')
  return `| ${target} | ${phaseName} | ${(sample.shopperSuccessRate * 100).toFixed(0)} % (${sample.shopperOk}/${sample.shopperRequests}) | ${sample.attackerRequests.toLocaleString('en-US')}: ${attacker} | ${sample.upstreamCalls.toLocaleString('en-US')} | ${sample.upstream429.toLocaleString('en-US')} |`
}

/** The report section (docs/benchmarks.md). */
export function budgetSection(result: BudgetResult): string[] {
  return [
    '## Budget under attack',
    '',
    `Recharge's real budget (${result.bucket} calls, ${result.leakRatePerS}/s) in a simulator per target; ${result.phaseS} s per phase. ` +
      '**flood**: an anonymous client asks for made-up product ids on 20 connections as fast as they go, while every seeded ' +
      'shopper reads their own data once a second. **probe**: one signed-in shopper asks for other shoppers’ records on 4 ' +
      'connections, the other shoppers read as before. The plain proxy (@fastify/reply-from adding the token) has no ' +
      'shopper identity: a shopper’s read is their customer record, the probe asks for other customers’ records (and ' +
      'gets them). Upstream calls are everything Recharge received in the phase, shoppers’ reads included.',
    '',
    '| target | phase | shoppers answered 200 | attacker requests: answers | upstream calls | refused by Recharge (429) |',
    '| --- | --- | --- | --- | --- | --- |',
    row('bridge', 'flood', result.bridge.flood),
    row('reply-from proxy', 'flood', result.proxy.flood),
    row('bridge', 'probe', result.bridge.probe),
    row('reply-from proxy', 'probe', result.proxy.probe),
    '',
  ]
}
