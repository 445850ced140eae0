/**
 * Phase 3, the mirror's lag: changes made in the simulator directly (one at a time, each to another customer's
 * subscription), each timed from just before the change is sent until the bridge's shopper route shows it (polled
 * every 20 ms on both replicas in turn). The path measured is the whole one: the simulator's webhook delivery, the
 * bridge's intake, its queue, the mirror's write, the read.
 */
import { percentile } from '../../harness/load.ts'
import { applyDirectly, bridgeView, planChange, shopperToken } from './changes.ts'
import { type MirrorStack, type ReplicaPair, type ShopperPool, type StoreState, sleep } from './stack.ts'

export interface LagResult {
  changes: number
  seen: number
  /** Changes not visible within the timeout (counted in p99 as the timeout). */
  notSeen: number
  timeoutMs: number
  lagMs: { p50: number; p90: number; p99: number; max: number }
  samplesMs: number[]
}

const TIMEOUT_MS = 30_000
const CHANGE_EVERY_MS = 1_000

export async function lagPhase(
  stack: MirrorStack,
  pool: ShopperPool,
  pair: ReplicaPair,
  state: StoreState,
  changes: number,
): Promise<LagResult> {
  const samples: number[] = []
  let notSeen = 0
  for (let sequence = 0; sequence < changes; sequence++) {
    const [customer] = pool.take(1, 'lag changes')
    if (!customer) throw new Error('no shopper left')
    const change = planChange(state, 'subscription', customer, sequence)
    const token = await shopperToken(pair.replicas[0], customer)
    const paced = performance.now()
    const began = await applyDirectly(stack, change)
    let seenAt: number | null = null
    for (let poll = 0; performance.now() - began < TIMEOUT_MS; poll++) {
      if ((await bridgeView(pair.replicas[poll % 2] ?? pair.replicas[0], token, change)) === change.value) {
        seenAt = performance.now()
        break
      }
      await sleep(20)
    }
    if (seenAt === null) notSeen++
    samples.push(Math.round((seenAt ?? began + TIMEOUT_MS) - began))
    // One change a second: within the direct token's own budget (2/s), and no two in the same second of Recharge's
    // clock.
    await sleep(Math.max(0, paced + CHANGE_EVERY_MS - performance.now()))
  }
  stack.log(
    `  lag over ${changes} changes: p50 ${percentile(samples, 50)} p99 ${percentile(samples, 99)} max ${percentile(samples, 100)} ms, ${notSeen} not seen within ${TIMEOUT_MS} ms`,
  )
  return {
    changes,
    seen: changes - notSeen,
    notSeen,
    timeoutMs: TIMEOUT_MS,
    lagMs: {
      p50: percentile(samples, 50),
      p90: percentile(samples, 90),
      p99: percentile(samples, 99),
      max: percentile(samples, 100),
    },
    samplesMs: samples,
  }
}
