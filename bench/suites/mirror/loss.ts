/**
 * Phase 4, webhook loss: for `dropMinutes` the simulator drops `dropShare` of its webhook deliveries (its fault rule,
 * decided per delivery and never retried) while changes are made in it directly, one every few seconds, each to
 * another record (subscriptions, customers and addresses in turn). When the drop ends, every changed record is read
 * through the bridge's shopper routes every 2 s and compared with the simulator's state, until all agree or three
 * reconciliation periods have passed. The goal: all agree within one period of the drop's end.
 */
import {
  applyDirectly,
  bridgeView,
  type Change,
  type ChangeKind,
  planChange,
  shopperToken,
  storeView,
} from './changes.ts'
import { type MirrorStack, type ReplicaPair, type ShopperPool, type StoreState, sleep, storeState } from './stack.ts'

export interface LossResult {
  dropMinutes: number
  dropShare: number
  reconcileSeconds: number
  changes: number
  byKind: Record<ChangeKind, number>
  /** Deliveries the simulator dropped (its drop rule's count), of those it matched. */
  deliveriesMatched: number
  deliveriesDropped: number
  /** Changed records the bridge showed wrong when the drop ended. */
  wrongAtDropEnd: number
  /** Seconds from the drop's end until every changed record agreed with the simulator (null: not within 3 periods). */
  healedAfterS: number | null
  /** Records still wrong at the end (with what each side showed), if any. */
  stillWrong: { kind: ChangeKind; recordId: number; bridge: unknown; store: unknown }[]
}

const KINDS: ChangeKind[] = ['subscription', 'customer', 'address']

async function wrongRecords(
  pair: ReplicaPair,
  tracked: { change: Change; token: string }[],
  state: StoreState,
): Promise<LossResult['stillWrong']> {
  const wrong: LossResult['stillWrong'] = []
  for (const [index, { change, token }] of tracked.entries()) {
    const bridge = await bridgeView(pair.replicas[index % 2] ?? pair.replicas[0], token, change)
    const store = storeView(state, change)
    if (bridge !== store) wrong.push({ kind: change.kind, recordId: change.recordId, bridge, store })
  }
  return wrong
}

export async function lossPhase(
  stack: MirrorStack,
  pool: ShopperPool,
  pair: ReplicaPair,
  state: StoreState,
  settings: { dropMinutes: number; dropShare: number; changeEveryS: number; reconcileSeconds: number },
): Promise<LossResult> {
  const tracked: { change: Change; token: string }[] = []
  const control = `${stack.simulator.url}/__sim/webhooks/faults`
  await stack.simulator.setWebhookFaults([{ dropShare: settings.dropShare }])
  const dropEndsAt = Date.now() + settings.dropMinutes * 60_000
  let next = Date.now()
  for (let sequence = 0; Date.now() < dropEndsAt; sequence++) {
    const [customer] = pool.take(1, 'changes during the webhook loss')
    if (!customer) throw new Error('no shopper left')
    const change = planChange(state, KINDS[sequence % KINDS.length] as ChangeKind, customer, 1000 + sequence)
    const token = await shopperToken(pair.replicas[0], customer)
    await applyDirectly(stack, change)
    tracked.push({ change, token })
    next += settings.changeEveryS * 1000
    await sleep(Math.max(0, Math.min(next, dropEndsAt) - Date.now()))
  }
  const drops = (await (await fetch(control)).json()) as { rules: { matched: number }[]; dropped: number }
  await stack.simulator.setWebhookFaults([])
  const endedAt = Date.now()
  // Deliveries of the last changes may still be in flight: give them the few seconds the lag phase measures.
  await sleep(5_000)
  let current = await storeState(stack.simulator)
  let wrong = await wrongRecords(pair, tracked, current)
  const wrongAtDropEnd = wrong.length
  stack.log(
    `  ${tracked.length} changes, ${drops.dropped} of ${drops.rules[0]?.matched ?? 0} deliveries dropped; ${wrongAtDropEnd} records wrong on the bridge 5 s after the drop ended`,
  )
  let healedAfterS: number | null = wrong.length === 0 ? (Date.now() - endedAt) / 1000 : null
  const giveUpAt = endedAt + 3 * settings.reconcileSeconds * 1000 + 10_000
  while (healedAfterS === null && Date.now() < giveUpAt) {
    await sleep(2_000)
    current = await storeState(stack.simulator)
    wrong = await wrongRecords(pair, tracked, current)
    if (wrong.length === 0) healedAfterS = (Date.now() - endedAt) / 1000
  }
  stack.log(
    healedAfterS === null
      ? `  ${wrong.length} records still wrong ${Math.round((Date.now() - endedAt) / 1000)} s after the drop ended`
      : `  every changed record correct ${healedAfterS.toFixed(1)} s after the drop ended (period ${settings.reconcileSeconds} s)`,
  )
  const byKind = { subscription: 0, customer: 0, address: 0 }
  for (const { change } of tracked) byKind[change.kind]++
  return {
    dropMinutes: settings.dropMinutes,
    dropShare: settings.dropShare,
    reconcileSeconds: settings.reconcileSeconds,
    changes: tracked.length,
    byKind,
    deliveriesMatched: drops.rules[0]?.matched ?? 0,
    deliveriesDropped: drops.dropped,
    wrongAtDropEnd,
    healedAfterS: healedAfterS === null ? null : Math.round(healedAfterS * 10) / 10,
    stillWrong: wrong.slice(0, 20),
  }
}
