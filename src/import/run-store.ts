import type { RecordOutcome } from './outcome.ts'

/**
 * Where import runs live between requests, replicas and restarts: the records as received, one outcome per record
 * index, counters, and the lease of the replica running it. In Redis every key of a run shares the hash tag
 * `{import:<id>}` (Redis Cluster runs the outcome script on one slot); the list of unfinished runs is one more key.
 */

export type RunState = 'running' | 'paused' | 'done'

export interface RunMeta {
  id: string
  state: RunState
  total: number
  source: 'api' | 'cli'
  created_at: string
  finished_at: string | null
}

export interface RunCounts {
  done: number
  created: number
  found: number
  failed: number
  calls: number
  /** Records whose customer this import created, and the calls they took (the per-record cost of a new customer). */
  new_customer_records: number
  new_customer_calls: number
  existing_customer_records: number
  existing_customer_calls: number
  customers_created: number
  payment_methods_created: number
  addresses_created: number
  subscriptions_created: number
}

export interface ImportRunStore {
  create(meta: RunMeta, records: readonly string[]): Promise<void>
  meta(id: string): Promise<RunMeta | null>
  setState(id: string, state: RunState): Promise<void>
  /** Records [start, end) as received (JSON text). */
  records(id: string, start: number, end: number): Promise<string[]>
  /** Indexes that have an outcome. */
  doneIndexes(id: string): Promise<Set<number>>
  saveOutcome(id: string, outcome: RecordOutcome): Promise<void>
  counts(id: string): Promise<RunCounts>
  failures(id: string, limit: number): Promise<RecordOutcome[]>
  acquireLease(id: string, owner: string, ttlMs: number): Promise<boolean>
  renewLease(id: string, owner: string, ttlMs: number): Promise<boolean>
  releaseLease(id: string, owner: string): Promise<void>
  /** Runs not finished (running or paused). */
  unfinished(): Promise<string[]>
}

/** How long a finished run's report is kept. */
export const FINISHED_TTL_S = 7 * 86_400
export const RECORD_CHUNK = 500

const COUNT_FIELDS = [
  'done',
  'created',
  'found',
  'failed',
  'calls',
  'new_customer_records',
  'new_customer_calls',
  'existing_customer_records',
  'existing_customer_calls',
  'customers_created',
  'payment_methods_created',
  'addresses_created',
  'subscriptions_created',
] as const

export function countsFrom(values: Record<string, string | number | undefined>): RunCounts {
  const counts = {} as RunCounts
  for (const field of COUNT_FIELDS) counts[field] = Number(values[field] ?? 0)
  return counts
}

/** The counter increments of one outcome. */
export function increments(outcome: RecordOutcome): [string, number][] {
  const newCustomer = outcome.created.customer && outcome.status !== 'failed'
  return [
    ['calls', outcome.calls],
    [newCustomer ? 'new_customer_records' : 'existing_customer_records', outcome.status === 'failed' ? 0 : 1],
    [newCustomer ? 'new_customer_calls' : 'existing_customer_calls', outcome.status === 'failed' ? 0 : outcome.calls],
    ['customers_created', outcome.status !== 'failed' && outcome.created.customer ? 1 : 0],
    ['payment_methods_created', outcome.status !== 'failed' && outcome.created.payment_method ? 1 : 0],
    ['addresses_created', outcome.status !== 'failed' && outcome.created.address ? 1 : 0],
    ['subscriptions_created', outcome.status !== 'failed' ? outcome.created.subscriptions : 0],
  ]
}
