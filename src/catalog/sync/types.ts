import type { FeedIssue } from '../feed.ts'

export type PlanStrategy = 'auto' | 'bulk' | 'batch'

export type SyncPhase = 'queued' | 'validating' | 'reading' | 'planning' | 'writing' | 'batch' | 'done'

export interface SyncProgress {
  phase: SyncPhase
  /** Planned write calls (products + plan calls). */
  totalWrites: number
  /** Write calls made so far (this run). */
  writes: number
  /** Read calls made so far (this run). */
  reads: number
  /** Products whose writes are all done, of those with changes. */
  productsDone: number
  productsToChange: number
  /** Seconds left at the token's leak rate (the budget is the floor; other replicas' traffic adds to it). */
  etaSeconds: number | null
}

export interface SyncError {
  external_product_id: string | null
  operation: string
  code: string
  message: string
}

export interface SyncTotals {
  productCreates: number
  productUpdates: number
  productDeletes: number
  planCreates: number
  planUpdates: number
  planDeletes: number
}

/** A dry-run line: what would change and why. */
export interface PlannedChange {
  external_product_id: string
  product: 'create' | 'update' | 'delete' | 'keep'
  fields: string[]
  plans: { create: string[]; update: { key: string; fields: string[] }[]; delete: { key: string; reason: string }[] }
}

export interface SyncReport {
  jobId: string
  dryRun: boolean
  /** This run continued a checkpoint of an interrupted run of the same feed. */
  resumed: boolean
  feedProducts: number
  unchanged: number
  totals: SyncTotals
  /** Items changed: product writes + plan writes (each plan counts as one item). */
  changedItems: number
  strategy: {
    planCreates: 'bulk' | 'batch' | 'none'
    planUpdates: 'bulk' | 'batch' | 'none'
    planDeletes: 'bulk' | 'batch' | 'none'
  }
  calls: { reads: number; writes: number; total: number }
  callsPerChangedItem: number | null
  durationMs: number
  /** Calls ÷ leak rate: the least time the token's budget allows for this many calls (ignoring the burst). */
  floorMs: number
  /** durationMs ÷ floorMs (1.0 = as fast as the budget allows). */
  floorRatio: number | null
  errors: SyncError[]
  /** Dry run only: the planned changes (first 1,000). */
  plan?: PlannedChange[]
}

export type SyncJobState = 'running' | 'succeeded' | 'partial' | 'failed' | 'cancelled' | 'invalid'

export interface SyncJobStatus {
  id: string
  state: SyncJobState
  dryRun: boolean
  source: 'api' | 'cli'
  startedAt: string
  finishedAt: string | null
  progress: SyncProgress
  report: SyncReport | null
  /** Feed problems when state is `invalid`. */
  issues: FeedIssue[] | null
  /** A short, client-safe reason when state is `failed`. */
  error: string | null
}
