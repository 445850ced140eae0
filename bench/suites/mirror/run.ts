/**
 * The account mirror at Recharge's real budget (bucket 40, 2 calls/s): a store of 10,000 generated customers, two
 * bridge replicas over one Redis. Five phases, in order, on one simulator:
 *
 *   1. fill   time to a ready mirror from empty, shopper pages served meanwhile; Redis memory per customer
 *   2. blast  the email blast: distinct shoppers open their account page at 2,000 per 5 minutes, on the bridge with
 *             the mirror on, with it off, and on a plain token-adding proxy (interleaved slices)
 *   3. lag    changes made in the simulator directly, each timed until the bridge shows it
 *   4. loss   10 % of webhook deliveries dropped for 10 minutes while changes are made; time until every changed
 *             record is correct on the bridge after the drop ends
 *   5. kill   a fresh fill whose lease holder is SIGKILLed partway; the other replica finishes it
 *
 *   npm run bench -- --only mirror                 the full run (about 40 minutes)
 *   npm run bench -- --only mirror -- --quick      1,000 customers, 200 shoppers a system, a 1-minute drop (~10 min)
 *
 * Other settings: bench/suites/mirror/options.ts. Results: bench/results/mirror.json and .md (quick:
 * mirror-quick.*), and the tables in docs/benchmarks.md.
 */
import { loadavg } from 'node:os'
import { stopAll } from '../../harness/processes.ts'
import { ensureBuilt } from '../../harness/setup.ts'
import { blastPhase } from './blast.ts'
import { fillPhase, killPhase } from './fill.ts'
import { lagPhase } from './lag.ts'
import { lossPhase } from './loss.ts'
import { mirrorBenchOptions } from './options.ts'
import { type MirrorBenchResult, machine, mergePrevious, writeMirrorReport } from './report.ts'
import {
  healthyShoppers,
  type MirrorStack,
  REFILL_MS,
  type ReplicaPair,
  ShopperPool,
  sleep,
  startStack,
  stopStack,
  storeState,
} from './stack.ts'

/** Redis key prefix of the first pair (and of the MIRROR=off pair of the blast); the lease test uses another. */
const MIRRORED_PREFIX = 'rbm'
const log = (line: string) => process.stderr.write(`${line}\n`)
const options = mirrorBenchOptions()
const loadAtStart = loadavg()
const started = Date.now()
const result: MirrorBenchResult = {
  at: new Date().toISOString(),
  elapsedS: 0,
  options: { ...options, phases: [...options.phases] },
  machine: machine(loadAtStart),
  failures: {},
  phaseRuns: Object.fromEntries([...options.phases, 'fill'].map((phase) => [phase, new Date(started).toISOString()])),
}

ensureBuilt(log, false)
log(
  `mirror suite (${options.profile}): ${options.customers} customers, ${options.shoppers} shoppers per system, phases ${[...options.phases].join(', ')}`,
)
let stack: MirrorStack | undefined
let pair: ReplicaPair | undefined
try {
  stack = await startStack(options.customers, log)
  const state = await storeState(stack.simulator)
  const pool = new ShopperPool(healthyShoppers(state))
  log(
    `  store: ${state.customers.length} customers (${pool.left} healthy shoppers), ${state.subscriptions.length} subscriptions`,
  )
  const s = stack

  // The mirrored pair serves every phase but the last; without it the later phases cannot run.
  log('fill: two replicas, empty Redis → ready')
  const filled = await fillPhase(s, pool, state, {
    keyPrefix: MIRRORED_PREFIX,
    reconcileSeconds: options.reconcileSeconds,
    pagesPerS: options.fillPagesPerS,
  })
  pair = filled.pair
  result.fill = filled.result
  const mirrored = filled.pair
  // Reconciliation re-lists by updated_at_min: the store as it is now, for the phases that compare with it.
  const phase = async (name: string, body: () => Promise<void>) => {
    if (!options.phases.has(name as never)) return
    log(name)
    try {
      await body()
    } catch (error) {
      result.failures[name] = error instanceof Error ? (error.stack ?? error.message) : String(error)
      log(`  FAILED: ${result.failures[name]}`)
    }
  }
  await phase('blast', async () => {
    result.blast = await blastPhase(s, pool, mirrored, {
      shoppers: options.shoppers,
      slices: options.slices,
      blastSeconds: options.blastSeconds,
      reconcileSeconds: options.reconcileSeconds,
      keyPrefix: MIRRORED_PREFIX,
    })
  })
  await phase('lag', async () => {
    result.lag = await lagPhase(s, pool, mirrored, state, options.changes)
  })
  await phase('loss', async () => {
    result.loss = await lossPhase(s, pool, mirrored, state, {
      dropMinutes: options.dropMinutes,
      dropShare: options.dropShare,
      changeEveryS: options.dropChangeEveryS,
      reconcileSeconds: options.reconcileSeconds,
    })
  })
  const publicUrl = mirrored.replicas[0].url
  await mirrored.stop()
  pair = undefined
  await phase('kill', async () => {
    await sleep(REFILL_MS)
    result.kill = await killPhase(s, await storeState(s.simulator), {
      keyPrefix: 'rbk',
      reconcileSeconds: options.reconcileSeconds,
      publicUrl,
    })
  })
} catch (error) {
  result.failures.fill = error instanceof Error ? (error.stack ?? error.message) : String(error)
  log(`FAILED: ${result.failures.fill}`)
} finally {
  await pair?.stop()
  await stopAll()
  await stopStack(stack)
}
if (options.merge) mergePrevious(result, options.phases)
result.elapsedS = Math.round((Date.now() - started) / 1000)
result.machine = machine(loadAtStart)
log(`wrote ${writeMirrorReport(result).join(', ')} (${result.elapsedS} s)`)
if (Object.keys(result.failures).length > 0) process.exitCode = 1
