/**
 * Phase 1, the fill: two replicas started on an empty Redis against the whole store; time until
 * `GET /v1/admin/mirror` says ready, with a light open-loop stream of shopper page loads served meanwhile, and the
 * Redis memory the mirror takes per customer. Phase 5, the leader killed: the same fill under another key prefix,
 * the replica holding the sync lease SIGKILLed a third of the way through; the other must finish it.
 */
import { percentile } from '../../harness/load.ts'
import { bridgePage, type PageOutcome, refusalSamples } from './page.ts'
import {
  type MirrorStack,
  type MirrorStatus,
  mirrorKeys,
  mirrorStatus,
  type ReplicaPair,
  type ShopperPool,
  type StoreState,
  sleep,
  startPair,
} from './stack.ts'

export interface FillResult {
  keyPrefix: string
  timeToReadyS: number
  atReady: MirrorStatus
  store: { customers: number; subscriptions: number; upcomingCharges: number }
  /** Requests the simulator received from starting the replicas to ready, by kind. */
  upstream: { lists: number; webhookRegistration: number; shopperPages: number; other: number; upstream429: number }
  pagesDuringFill: {
    ratePerS: number
    pages: number
    fullyAnswered: number
    statuses: Record<string, number>
    refusalSamples: Record<string, string>
    latencyMs: { p50: number; p99: number; max: number }
  }
  memory: {
    mirrorKeys: number
    /** Σ MEMORY USAGE over every key under `<prefix>:mirror:` ÷ customers held. */
    memoryUsagePerCustomerBytes: number
    /** INFO used_memory after ready − before the replicas started, ÷ customers (includes the replicas' other keys). */
    usedMemoryDeltaPerCustomerBytes: number
  }
}

const LIST_PATHS = new Set(['/customers', '/addresses', '/subscriptions', '/charges', '/onetimes', '/payment_methods'])

async function usedMemory(stack: MirrorStack): Promise<number> {
  const info = await stack.redisClient.info('memory')
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN)
}

async function memoryUsage(stack: MirrorStack, keys: string[]): Promise<number> {
  let total = 0
  for (let i = 0; i < keys.length; i += 1000) {
    const sizes = await Promise.all(
      keys.slice(i, i + 1000).map((key) => stack.redisClient.memoryUsage(key, { SAMPLES: 0 })),
    )
    for (const size of sizes) total += size ?? 0
  }
  return total
}

export function storeCounts(state: StoreState): FillResult['store'] {
  return {
    customers: state.customers.length,
    subscriptions: state.subscriptions.length,
    upcomingCharges: state.charges.filter((row) => ['queued', 'skipped'].includes(row.status.toLowerCase())).length,
  }
}

/** Page loads at `ratePerS` (Poisson) alternating over the pair's replicas, until `stopped()`. */
async function pageStream(pair: ReplicaPair, pool: ShopperPool, ratePerS: number, stopped: () => boolean) {
  const inFlight: Promise<PageOutcome>[] = []
  let next = Date.now()
  let index = 0
  while (!stopped()) {
    next += -Math.log(1 - Math.random()) * (1000 / ratePerS)
    while (!stopped() && Date.now() < next) await sleep(Math.max(0, Math.min(200, next - Date.now())))
    if (stopped()) break
    const [shopper] = pool.take(1, 'pages during the fill')
    if (!shopper) break
    inFlight.push(bridgePage((pair.replicas[index++ % 2] ?? pair.replicas[0]).url, shopper))
  }
  return Promise.all(inFlight)
}

export async function fillPhase(
  stack: MirrorStack,
  pool: ShopperPool,
  state: StoreState,
  settings: { keyPrefix: string; reconcileSeconds: number; pagesPerS: number },
): Promise<{ pair: ReplicaPair; result: FillResult }> {
  const before = await usedMemory(stack)
  await fetch(`${stack.simulator.url}/__sim/requests`, { method: 'DELETE' })
  const pair = await startPair(stack, {
    name: 'M',
    mirror: true,
    keyPrefix: settings.keyPrefix,
    reconcileSeconds: settings.reconcileSeconds,
  })
  let ready: MirrorStatus | null = null
  const stream = pageStream(pair, pool, settings.pagesPerS, () => ready !== null)
  let lastLog = 0
  while (ready === null) {
    const status = await mirrorStatus(pair.replicas[0])
    if (status.state === 'ready') ready = status
    else await sleep(250)
    if (Date.now() - lastLog > 15_000) {
      lastLog = Date.now()
      stack.log(
        `  fill: ${status.state}, ${status.customers} customers, ${status.subscriptions} subscriptions after ${Math.round((Date.now() - pair.startedAt) / 1000)} s`,
      )
    }
  }
  const timeToReadyS = (Date.now() - pair.startedAt) / 1000
  const outcomes = await stream
  const entries = await stack.simulator.ledger()
  const keys = await mirrorKeys(stack, settings.keyPrefix)
  const after = await usedMemory(stack)
  const total = await memoryUsage(stack, keys)
  const customers = Math.max(1, ready.customers)
  const latencies = outcomes.map((outcome) => outcome.latencyMs)
  const statuses: Record<string, number> = {}
  for (const outcome of outcomes) {
    for (const status of outcome.statuses) statuses[String(status)] = (statuses[String(status)] ?? 0) + 1
  }
  const isShopperRead = (entry: (typeof entries)[number]) =>
    entry.query.customer_id !== undefined || entry.query.email !== undefined || /^\/customers\/\d+/.test(entry.path)
  const lists = entries.filter((entry) => LIST_PATHS.has(entry.path) && !isShopperRead(entry)).length
  const webhookRegistration = entries.filter((entry) => entry.path.startsWith('/webhooks')).length
  const shopperPages = entries.filter(isShopperRead).length
  const result: FillResult = {
    keyPrefix: settings.keyPrefix,
    timeToReadyS: Math.round(timeToReadyS * 10) / 10,
    atReady: ready,
    store: storeCounts(state),
    upstream: {
      lists,
      webhookRegistration,
      shopperPages,
      other: entries.length - lists - webhookRegistration - shopperPages,
      upstream429: entries.filter((entry) => entry.status === 429).length,
    },
    pagesDuringFill: {
      ratePerS: settings.pagesPerS,
      pages: outcomes.length,
      fullyAnswered: outcomes.filter((outcome) => outcome.ok).length,
      statuses,
      refusalSamples: refusalSamples(outcomes),
      latencyMs: {
        p50: Math.round(percentile(latencies, 50)),
        p99: Math.round(percentile(latencies, 99)),
        max: Math.round(percentile(latencies, 100)),
      },
    },
    memory: {
      mirrorKeys: keys.length,
      memoryUsagePerCustomerBytes: Math.round(total / customers),
      usedMemoryDeltaPerCustomerBytes: Math.round((after - before) / customers),
    },
  }
  stack.log(
    `  ready after ${result.timeToReadyS} s: ${ready.customers} customers, ${ready.subscriptions} subscriptions, ${ready.charges} charges; ${result.memory.memoryUsagePerCustomerBytes} B/customer (MEMORY USAGE), ${result.memory.usedMemoryDeltaPerCustomerBytes} B (used_memory delta); pages meanwhile ${result.pagesDuringFill.fullyAnswered}/${result.pagesDuringFill.pages}`,
  )
  return { pair, result }
}

export interface KillResult {
  keyPrefix: string
  killedAtS: number
  statusAtKill: MirrorStatus
  /** The sync's checkpoint when the leader was killed (list and cursor position). */
  checkpointAtKill: { kind?: string; step?: number; list?: string }
  /** The lease holder before the kill and after ready (the replica ids the sync wrote in the lease). */
  leaseBefore: string | null
  leaseAfter: string | null
  timeToReadyS: number
  atReady: MirrorStatus
  store: FillResult['store']
  /** Customers of the store with no customer record in the mirror (must be 0). */
  customersMissing: number
}

export async function killPhase(
  stack: MirrorStack,
  state: StoreState,
  settings: { keyPrefix: string; reconcileSeconds: number; publicUrl: string },
): Promise<KillResult> {
  const store = storeCounts(state)
  const pair = await startPair(stack, {
    name: 'K',
    mirror: true,
    keyPrefix: settings.keyPrefix,
    reconcileSeconds: settings.reconcileSeconds,
    publicUrl: settings.publicUrl,
    staggered: true,
  })
  try {
    const [leader, survivor] = pair.replicas
    const leaseKey = (await mirrorKeys(stack, settings.keyPrefix)).find((key) => key.endsWith(':lease'))
    if (!leaseKey) throw new Error('no lease key')
    const leaseBefore = await stack.redisClient.get(leaseKey)
    // Partway: once the pass's checkpoint reaches its third list (subscriptions), read from Redis as the sync saves it.
    const stateKey = `${leaseKey.slice(0, -':lease'.length)}:sync`
    let checkpoint: { kind?: string; step?: number; list?: string } = {}
    for (;;) {
      const sync = await stack.redisClient.hGetAll(stateKey)
      if (sync.ready === '1') throw new Error('the fill completed before the leader could be killed')
      checkpoint = sync.pass ? (JSON.parse(sync.pass) as typeof checkpoint) : {}
      if ((checkpoint.step ?? 0) >= 2) break
      await sleep(10)
    }
    leader.process.child.kill('SIGKILL')
    const killedAtS = (Date.now() - pair.startedAt) / 1000
    const statusAtKill = await mirrorStatus(survivor)
    stack.log(
      `  killed the lease holder after ${killedAtS.toFixed(1)} s (${statusAtKill.customers} customers, ${statusAtKill.subscriptions} subscriptions held)`,
    )
    let atReady: MirrorStatus
    for (;;) {
      atReady = await mirrorStatus(survivor)
      if (atReady.state === 'ready') break
      await sleep(250)
    }
    const timeToReadyS = (Date.now() - pair.startedAt) / 1000
    const leaseAfter = await stack.redisClient.get(leaseKey)
    const base = leaseKey.slice(0, -':lease'.length)
    let customersMissing = 0
    for (let i = 0; i < state.customers.length; i += 1000) {
      const held = await Promise.all(
        state.customers
          .slice(i, i + 1000)
          .map((customer) => stack.redisClient.hExists(`${base}:{c${customer.id}}:records`, 'customer')),
      )
      customersMissing += held.filter((exists) => !exists).length
    }
    stack.log(
      `  the other replica finished: ready after ${timeToReadyS.toFixed(1)} s, ${atReady.customers} customers (store ${store.customers}), ${customersMissing} missing`,
    )
    return {
      keyPrefix: settings.keyPrefix,
      killedAtS: Math.round(killedAtS * 10) / 10,
      statusAtKill,
      checkpointAtKill: checkpoint,
      leaseBefore,
      leaseAfter,
      timeToReadyS: Math.round(timeToReadyS * 10) / 10,
      atReady,
      store,
      customersMissing,
    }
  } finally {
    await pair.stop()
  }
}
