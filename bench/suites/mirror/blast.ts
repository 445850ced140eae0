/**
 * Phase 2, the email blast: distinct shoppers each open their account page at the blast's rate (2,000 in 5 minutes:
 * 6.7 pages/s), on three systems — the bridge pair with the mirror ready, a bridge pair with MIRROR=off, and the
 * plain reply-from proxy. Each system gets `slices` slices, interleaved (on, off, proxy, on, off, proxy, …), each
 * slice a fresh set of shoppers (never one served before, by any system) at the full rate, and the budget refills
 * between slices; figures are the medians of the slices, counts their sums.
 */
import { median } from '../../harness/load.ts'
import { startBaseline } from '../../harness/setup.ts'
import { bridgePage, proxyPage, runSlice, type SliceResult } from './page.ts'
import { type MirrorStack, REFILL_MS, type ReplicaPair, type ShopperPool, sleep, startPair } from './stack.ts'

/** Page loads on the mirrored pair before the first slice (its optimising compiler's first pass). */
const WARMUP_PAGES = 40

export type SystemName = 'bridge, mirror on' | 'bridge, mirror off' | 'plain proxy'

export interface SystemSummary {
  system: SystemName
  pages: number
  fullyAnswered: number
  fullyAnsweredShare: number
  /** Medians over the slices. */
  p50Ms: number
  p99Ms: number
  upstreamCallsPerPage: number
  /** Sums over the slices. */
  upstreamCalls: number
  upstream429: number
  statuses: Record<string, number>
  refusalSamples: Record<string, string>
  slices: SliceResult[]
}

export interface BlastResult {
  ratePerS: number
  shoppersPerSystem: number
  slicesPerSystem: number
  shoppersPerSlice: number
  refillBetweenSlicesS: number
  systems: SystemSummary[]
}

export async function blastPhase(
  stack: MirrorStack,
  pool: ShopperPool,
  mirrored: ReplicaPair,
  settings: { shoppers: number; slices: number; blastSeconds: number; reconcileSeconds: number; keyPrefix: string },
): Promise<BlastResult> {
  const ratePerS = settings.shoppers / settings.blastSeconds
  const perSlice = Math.floor(settings.shoppers / settings.slices)
  const publicUrl = mirrored.replicas[0].url
  const off = await startPair(stack, {
    name: 'O',
    mirror: false,
    // The same prefix as the mirrored pair: one budget book in Redis for all four replicas (their one store's
    // budget), so neither pair's calls surprise the other with a 429. MIRROR=off never reads the mirror's keys.
    keyPrefix: settings.keyPrefix,
    reconcileSeconds: settings.reconcileSeconds,
    publicUrl,
  })
  const proxy = await startBaseline('proxy', { SIM_URL: stack.simulator.url, SIM_TOKEN: stack.simulator.apiToken })
  try {
    const systems: { name: SystemName; targets: string[]; page: typeof bridgePage }[] = [
      { name: 'bridge, mirror on', targets: mirrored.replicas.map((r) => r.url), page: bridgePage },
      { name: 'bridge, mirror off', targets: off.replicas.map((r) => r.url), page: bridgePage },
      { name: 'plain proxy', targets: [proxy.url], page: proxyPage },
    ]
    const slices = new Map<SystemName, SliceResult[]>(systems.map((system) => [system.name, []]))
    // Warm-up of the mirrored pair's code paths (no upstream calls: it reads the mirror), shoppers of its own.
    await runSlice(stack.simulator, pool.take(WARMUP_PAGES, 'warm-up'), 5, systems[0]?.targets ?? [], bridgePage)
    await sleep(REFILL_MS)
    for (let round = 1; round <= settings.slices; round++) {
      for (const system of systems) {
        const shoppers = pool.take(perSlice, `blast slice ${round} (${system.name})`)
        const result = await runSlice(stack.simulator, shoppers, ratePerS, system.targets, system.page)
        slices.get(system.name)?.push(result)
        stack.log(
          `  slice ${round} ${system.name}: ${result.fullyAnswered}/${result.pages} pages fully answered, p50 ${result.latencyMs.p50} p99 ${result.latencyMs.p99} ms, ${result.upstreamCallsPerPage.toFixed(3)} upstream calls/page, ${result.upstream429} upstream 429s, ${result.wallS} s`,
        )
        await sleep(REFILL_MS)
      }
    }
    return {
      ratePerS: Math.round(ratePerS * 100) / 100,
      shoppersPerSystem: perSlice * settings.slices,
      slicesPerSystem: settings.slices,
      shoppersPerSlice: perSlice,
      refillBetweenSlicesS: REFILL_MS / 1000,
      systems: systems.map(({ name }) => summarise(name, slices.get(name) ?? [])),
    }
  } finally {
    await off.stop()
    process.kill(proxy.pid, 'SIGTERM')
  }
}

function summarise(system: SystemName, slices: SliceResult[]): SystemSummary {
  const pages = slices.reduce((sum, slice) => sum + slice.pages, 0)
  const fullyAnswered = slices.reduce((sum, slice) => sum + slice.fullyAnswered, 0)
  const statuses: Record<string, number> = {}
  for (const slice of slices) {
    for (const [status, count] of Object.entries(slice.statuses)) statuses[status] = (statuses[status] ?? 0) + count
  }
  const refusals: Record<string, string> = {}
  for (const slice of slices) {
    for (const [status, body] of Object.entries(slice.refusalSamples)) refusals[status] ??= body
  }
  return {
    system,
    pages,
    fullyAnswered,
    fullyAnsweredShare: pages === 0 ? 0 : fullyAnswered / pages,
    p50Ms: median(slices.map((slice) => slice.latencyMs.p50)),
    p99Ms: median(slices.map((slice) => slice.latencyMs.p99)),
    upstreamCallsPerPage: median(slices.map((slice) => slice.upstreamCallsPerPage)),
    upstreamCalls: slices.reduce((sum, slice) => sum + slice.upstreamCalls, 0),
    upstream429: slices.reduce((sum, slice) => sum + slice.upstream429, 0),
    statuses,
    refusalSamples: refusals,
    slices,
  }
}
