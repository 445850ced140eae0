import type { Metrics } from '../infra/metrics/registry.ts'
import type { RecordOutcome } from './outcome.ts'

/** The import's /metrics series (recharge_bridge_import_*): records by outcome, what they created, upstream calls. */
export function importMetrics(metrics: Metrics) {
  const records = metrics.counter(
    'recharge_bridge_import_records_total',
    'Imported records by outcome (created, found, failed) and failing step',
    ['outcome', 'step'],
  )
  const created = metrics.counter(
    'recharge_bridge_import_created_total',
    'Recharge records an import created, by kind',
    ['kind'],
  )
  const calls = metrics.counter('recharge_bridge_import_upstream_calls_total', 'Upstream calls made by imports')
  const runs = metrics.gauge('recharge_bridge_import_runs_active', 'Import runs this replica is working on now')
  return {
    observe(outcome: RecordOutcome, dryRun: boolean) {
      calls.inc(outcome.calls)
      if (dryRun) return
      records.inc({ outcome: outcome.status, step: outcome.step ?? '' })
      if (outcome.status === 'failed') return
      if (outcome.created.customer) created.inc({ kind: 'customer' })
      if (outcome.created.payment_method) created.inc({ kind: 'payment_method' })
      if (outcome.created.address) created.inc({ kind: 'address' })
      if (outcome.created.subscriptions > 0) created.inc({ kind: 'subscription' }, outcome.created.subscriptions)
    },
    /** How many runs this replica holds the lease of (set whenever one starts or stops here). */
    working: (count: number) => runs.set(count),
  }
}

export type ImportMetrics = ReturnType<typeof importMetrics>
