import { createHash } from 'node:crypto'
import { AppError } from '../../errors.ts'
import { asyncBatchesResource } from '../../recharge/resources/async-batches.ts'
import { plansResource } from '../../recharge/resources/plans.ts'
import { productsResource } from '../../recharge/resources/products.ts'
import { storeResource } from '../../recharge/resources/store.ts'
import {
  type AsyncBatchType,
  asyncBatchMaxTasksPerBatch,
  asyncBatchMaxTasksPerRequest,
} from '../../recharge/schemas/async-batches.ts'
import type { RechargeTransport } from '../../recharge/types.ts'
import { desiredProduct } from '../desired.ts'
import { diffCatalog, type ProductChange, type SyncPlan } from '../diff.ts'
import { type CatalogFeed, type FeedIssue, validateFeed } from '../feed.ts'
import { type BatchRunnerOptions, runBatch, waitForBatch } from './batches.ts'
import { type CallCounts, countingTransport } from './counting-transport.ts'
import { readCurrentState } from './snapshot.ts'
import { type Checkpoint, type SyncStateStore, withRetries } from './state-store.ts'
import type { PlannedChange, PlanStrategy, SyncError, SyncPhase, SyncProgress, SyncReport } from './types.ts'

/** Below this many products with plan changes of one kind, per-product plans-bulk calls are cheaper than a batch. */
export const BATCH_MIN_PRODUCTS = 8

/**
 * A feed that would delete more than this share of the store's products (and more than MASS_DELETE_MIN of them) is
 * refused unless the caller allows it: a truncated export must not wipe a catalog.
 */
export const MASS_DELETE_SHARE = 0.25
export const MASS_DELETE_MIN = 10

/** Plans per plans-bulk request (the simulator enforces Recharge's cap of 20). */
export const MAX_PLANS_PER_BULK = 20

function chunks<T>(items: readonly T[], size = MAX_PLANS_PER_BULK): T[][] {
  const out: T[][] = []
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size))
  return out
}

function bulkCalls(changes: readonly ProductChange[], pick: (change: ProductChange) => readonly unknown[]): number {
  return changes.reduce((sum, change) => sum + Math.ceil(pick(change).length / MAX_PLANS_PER_BULK), 0)
}

/** The feed did not validate: every issue, per product, with its path. Rendered as 400 VALIDATION_FAILED. */
export class FeedInvalidError extends Error {
  readonly issues: FeedIssue[]
  /** `fetched`: the feed came from a URL, so no value from it (a product id) is quoted back; paths and rules only. */
  constructor(issues: FeedIssue[], options: { fetched?: boolean } = {}) {
    super(`The catalog feed has ${issues.length} problem(s)`)
    this.name = 'FeedInvalidError'
    this.issues = options.fetched ? issues.map((issue) => ({ ...issue, external_product_id: null })) : issues
  }

  toAppError(): AppError {
    return new AppError('VALIDATION_FAILED', {
      detail: this.message,
      errors: this.issues.slice(0, 100).map((issue) => ({
        field: `body.${issue.path}`,
        message: issue.external_product_id ? `${issue.message} (product ${issue.external_product_id})` : issue.message,
      })),
      extensions: { issues: this.issues.slice(0, 1000) },
    })
  }
}

export interface SyncLog {
  info(object: Record<string, unknown>, message: string): void
  warn(object: Record<string, unknown>, message: string): void
}

const quietLog: SyncLog = { info() {}, warn() {} }

export interface SyncEngineDeps {
  transport: RechargeTransport
  state: SyncStateStore
  /** The token's leak rate (calls/s): ETA and the floor of the report. */
  leakRate: number
  log?: SyncLog
  /** First poll interval of an async batch (grows ×1.5 up to 5 s). Default 500 ms. */
  batchPollMs?: number
  /** Longest wait for one async batch. Default 15 min. */
  batchTimeoutMs?: number
}

export interface SyncRunOptions {
  jobId: string
  /** The raw feed (parsed JSON); validated here. */
  feed: unknown
  dryRun?: boolean
  /** Delete Recharge products the feed does not list. Default true. */
  deleteMissing?: boolean
  /** Allow deleting more than MASS_DELETE_SHARE of the store's products in one run. Default false. */
  allowMassDelete?: boolean
  /** false: refuse a run that would delete any product (the CLI asks for --yes). Default true. */
  allowDeletes?: boolean
  planStrategy?: PlanStrategy
  signal?: AbortSignal
  onProgress?: (progress: SyncProgress) => void
  /** Observes each upstream write (tests interrupt a run after N writes). */
  afterWrite?: (method: string, path: string) => void
  /** Told, before each write, which product it may change (cache invalidation once the run ends). */
  onChanged?: (externalProductId: string) => void
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

export function feedHash(feed: CatalogFeed): string {
  return createHash('sha256').update(stableStringify(feed.products)).digest('hex')
}

function errorCode(error: unknown): { code: string; message: string } {
  if (error && typeof error === 'object' && 'toAppError' in error && typeof error.toAppError === 'function') {
    const appError = (error.toAppError as () => AppError)()
    return { code: appError.code, message: appError.detail ?? appError.title }
  }
  if (error instanceof AppError) return { code: error.code, message: error.detail ?? error.title }
  return { code: 'INTERNAL', message: error instanceof Error ? error.name : 'error' }
}

function plannedChanges(plan: SyncPlan): PlannedChange[] {
  return plan.changes.slice(0, 1000).map((change) => ({
    external_product_id: change.external_product_id,
    product: change.product,
    fields: change.fields,
    plans: {
      create: change.planCreates.map((p) => p.key),
      update: change.planUpdates.map((p) => ({ key: p.key, fields: p.fields })),
      delete: change.planDeletes.map((p) => ({ key: p.key, reason: p.reason })),
    },
  }))
}

type Mode = 'bulk' | 'batch' | 'none'

function chooseMode(strategy: PlanStrategy, products: number): Mode {
  if (products === 0) return 'none'
  if (strategy === 'bulk' || strategy === 'batch') return strategy
  return products >= BATCH_MIN_PRODUCTS ? 'batch' : 'bulk'
}

function batchCalls(tasks: number): number {
  if (tasks === 0) return 0
  const batches = Math.ceil(tasks / asyncBatchMaxTasksPerBatch)
  return batches * 2 + Math.ceil(tasks / asyncBatchMaxTasksPerRequest)
}

/**
 * One catalog sync: validate the feed → read the store currency and re-validate prices against it → wait for an async
 * batch an interrupted run left processing → read every product and plan → diff → write only the differences (on the
 * background lane) → report calls, time and the rate-limit floor. Idempotent: writes are derived from a fresh read
 * and plans are matched by key, so a second run with the same feed writes nothing and a re-run after a crash
 * finishes the work without duplicating it. The caller holds the store's sync lock (jobs.ts).
 */
export async function runCatalogSync(deps: SyncEngineDeps, options: SyncRunOptions): Promise<SyncReport> {
  const started = performance.now()
  const log = deps.log ?? quietLog
  const counts: CallCounts = { reads: 0, writes: 0 }
  const transport = countingTransport(deps.transport, counts, {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.afterWrite ? { afterWrite: options.afterWrite } : {}),
  })
  const products = productsResource(transport)
  const plans = plansResource(transport)
  const batches = asyncBatchesResource(transport)
  const store = storeResource(transport)
  const dryRun = options.dryRun ?? false
  const batchOptions: BatchRunnerOptions = {
    batches,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(deps.batchPollMs === undefined ? {} : { pollMs: deps.batchPollMs }),
    ...(deps.batchTimeoutMs === undefined ? {} : { timeoutMs: deps.batchTimeoutMs }),
  }

  let phase: SyncPhase = 'validating'
  let totalWrites = 0
  let productsDone = 0
  let productsToChange = 0
  const progress = (): SyncProgress => {
    const remaining = Math.max(0, totalWrites - counts.writes)
    return {
      phase,
      totalWrites,
      writes: counts.writes,
      reads: counts.reads,
      productsDone,
      productsToChange,
      etaSeconds: phase === 'writing' || phase === 'batch' ? Math.ceil(remaining / deps.leakRate) : null,
    }
  }
  const report = (next: SyncPhase) => {
    phase = next
    options.onProgress?.(progress())
  }

  // 1. The feed's shape, then its prices against the store currency.
  const structural = validateFeed(options.feed)
  if (!structural.ok) throw new FeedInvalidError(structural.issues)
  const currency = (await store.get({ lane: 'background' })).currency ?? undefined
  const validation = validateFeed(options.feed, currency)
  if (!validation.ok) throw new FeedInvalidError(validation.issues)
  const feed = validation.feed
  const hash = feedHash(feed)

  // 2. An interrupted run may have left a submitted batch: let it finish before reading, or we would race it.
  const previous = dryRun ? null : await withRetries(() => deps.state.loadCheckpoint()).catch(() => null)
  const resumed = previous !== null && previous.feedHash === hash
  if (previous?.batch?.submitted) {
    log.info({ batchId: previous.batch.id }, 'catalog sync: waiting for the async batch of the interrupted run')
    await waitForBatch(batchOptions, previous.batch.id).catch((error: unknown) => {
      log.warn(
        { batchId: previous.batch?.id, error: errorCode(error).code },
        'catalog sync: previous batch not readable',
      )
    })
  }

  // 3. Read, diff.
  report('reading')
  const current = await readCurrentState(products, plans)
  report('planning')
  const desired = feed.products.map(desiredProduct)
  const plan = diffCatalog(desired, current, { deleteMissing: options.deleteMissing ?? true })
  const deletes = plan.totals.productDeletes
  if (!dryRun && options.allowDeletes === false && deletes > 0) {
    const doomed = plan.changes
      .filter((change) => change.product === 'delete')
      .map((change) => change.external_product_id)
    throw new FeedInvalidError([
      {
        index: null,
        external_product_id: null,
        path: 'products',
        message: `would delete ${deletes} of the ${current.products.size} products in Recharge (${doomed.slice(0, 10).join(', ')}${doomed.length > 10 ? ', …' : ''}) because the feed does not list them; confirm with --yes (or --allow-deletes), keep them with --no-delete, or see the plan with --dry-run`,
      },
    ])
  }
  if (
    !dryRun &&
    !options.allowMassDelete &&
    deletes > MASS_DELETE_MIN &&
    deletes > current.products.size * MASS_DELETE_SHARE
  ) {
    throw new FeedInvalidError([
      {
        index: null,
        external_product_id: null,
        path: 'products',
        message: `would delete ${deletes} of the ${current.products.size} products in Recharge; if that is intended, allow mass deletes (CLI --allow-mass-delete, API "allow_mass_delete": true), or keep them with delete_missing=false`,
      },
    ])
  }
  const strategy = options.planStrategy ?? 'auto'
  const modes = {
    planCreates: chooseMode(strategy, plan.changes.filter((c) => c.planCreates.length > 0).length),
    planUpdates: chooseMode(strategy, plan.changes.filter((c) => c.planUpdates.length > 0).length),
    planDeletes: chooseMode(strategy, plan.changes.filter((c) => c.planDeletes.length > 0).length),
  }
  const productWrites = plan.totals.productCreates + plan.totals.productUpdates + plan.totals.productDeletes
  totalWrites =
    productWrites +
    (modes.planCreates === 'bulk'
      ? bulkCalls(plan.changes, (c) => c.planCreates)
      : batchCalls(bulkCalls(plan.changes, (c) => c.planCreates))) +
    (modes.planUpdates === 'bulk'
      ? bulkCalls(plan.changes, (c) => c.planUpdates)
      : batchCalls(bulkCalls(plan.changes, (c) => c.planUpdates))) +
    (modes.planDeletes === 'bulk'
      ? bulkCalls(plan.changes, (c) => c.planDeletes)
      : batchCalls(bulkCalls(plan.changes, (c) => c.planDeletes)))
  productsToChange = plan.changes.length
  const changedItems = productWrites + plan.totals.planCreates + plan.totals.planUpdates + plan.totals.planDeletes
  const errors: SyncError[] = []

  const finish = (): SyncReport => {
    const durationMs = Math.round(performance.now() - started)
    const total = counts.reads + counts.writes
    const floorMs = Math.round((total / deps.leakRate) * 1000)
    return {
      jobId: options.jobId,
      dryRun,
      resumed,
      feedProducts: feed.products.length,
      unchanged: plan.unchanged,
      totals: plan.totals,
      changedItems,
      strategy: modes,
      calls: { reads: counts.reads, writes: counts.writes, total },
      callsPerChangedItem: changedItems > 0 ? Number((total / changedItems).toFixed(3)) : null,
      durationMs,
      floorMs,
      floorRatio: floorMs > 0 ? Number((durationMs / floorMs).toFixed(3)) : null,
      errors,
      ...(dryRun ? { plan: plannedChanges(plan) } : {}),
    }
  }

  if (dryRun) {
    report('done')
    return finish()
  }

  // 4. Write, checkpointing as we go.
  const checkpoint: Checkpoint = {
    jobId: options.jobId,
    feedHash: hash,
    startedAt: resumed && previous ? previous.startedAt : new Date().toISOString(),
    updatedAt: new Date().toISOString(),
    done: resumed && previous ? previous.done : [],
    writes: resumed && previous ? previous.writes : 0,
    batch: null,
  }
  const done = new Set(checkpoint.done)
  let lastSave = 0
  const save = async (force = false) => {
    const now = Date.now()
    if (!force && now - lastSave < 500) return
    lastSave = now
    checkpoint.updatedAt = new Date(now).toISOString()
    checkpoint.done = [...done]
    checkpoint.writes = (resumed && previous ? previous.writes : 0) + counts.writes
    // Best effort: correctness comes from re-reading Recharge; the checkpoint adds the batch in flight and progress.
    await withRetries(() => deps.state.saveCheckpoint(checkpoint)).catch((error: unknown) => {
      log.warn({ error: errorCode(error).code }, 'catalog sync: checkpoint not saved')
    })
  }
  await save(true)
  const track = async (batch: Checkpoint['batch']) => {
    checkpoint.batch = batch
    await save(true)
  }

  const attempt = async (change: ProductChange | null, operation: string, write: () => Promise<unknown>) => {
    options.signal?.throwIfAborted()
    // Before the write: one that times out may still have been applied upstream.
    if (change) options.onChanged?.(change.external_product_id)
    try {
      await write()
      return true
    } catch (error) {
      if (options.signal?.aborted) throw error
      const { code, message } = errorCode(error)
      errors.push({ external_product_id: change?.external_product_id ?? null, operation, code, message })
      log.warn({ product: change?.external_product_id, operation, code }, 'catalog sync: write failed')
      return false
    }
  }

  /** Plan writes of one product through plans-bulk, ≤ 20 plans per call; stops at the first failure. */
  const inChunks = async <T>(
    change: ProductChange,
    operation: string,
    items: readonly T[],
    send: (part: T[]) => Promise<unknown>,
  ): Promise<boolean> => {
    for (const part of chunks(items)) {
      if (!(await attempt(change, operation, () => send(part)))) return false
    }
    return true
  }
  /** Products whose own writes failed: their plans are left out of the batches (the tasks could only fail). */
  const failed = new Set<string>()

  report('writing')
  const upserts = plan.changes.filter((change) => change.product !== 'delete')
  const removals = plan.changes.filter((change) => change.product === 'delete')

  for (const change of upserts) {
    let ok = true
    const id = change.external_product_id
    if (change.product === 'create' && change.body) {
      const body = change.body
      ok = await attempt(change, 'product.create', () => products.create(body))
      if (!ok) failed.add(id)
    } else if (change.product === 'update' && change.body) {
      const body = change.body
      ok = await attempt(change, 'product.update', () => products.update(id, body))
    }
    if (ok && modes.planCreates === 'bulk') {
      ok = await inChunks(change, 'plans.create', change.planCreates, (part) =>
        plans.bulkCreate(
          id,
          part.map((p) => p.body),
        ),
      )
    }
    if (ok && modes.planUpdates === 'bulk') {
      ok = await inChunks(change, 'plans.update', change.planUpdates, (part) =>
        plans.bulkUpdate(
          id,
          part.map((p) => p.body),
        ),
      )
    }
    if (ok && modes.planDeletes === 'bulk') {
      ok = await inChunks(change, 'plans.delete', change.planDeletes, (part) =>
        plans.bulkDelete(
          id,
          part.map((p) => p.id),
        ),
      )
    }
    if (!ok) failed.add(id)
    const needsBatch =
      (modes.planCreates === 'batch' && change.planCreates.length > 0) ||
      (modes.planUpdates === 'batch' && change.planUpdates.length > 0) ||
      (modes.planDeletes === 'batch' && change.planDeletes.length > 0)
    if (ok && !needsBatch) {
      done.add(id)
      productsDone += 1
    }
    options.onProgress?.(progress())
    await save()
  }

  // 5. Plan changes of many products: one async batch per kind instead of one call per product.
  // A task is one product's plans-bulk call (`{external_product_id, plans}`): ≤ 20 plans, so big products take several.
  const tasksOf = (changes: readonly ProductChange[], pick: (change: ProductChange) => readonly unknown[]) =>
    changes
      .filter((change) => !failed.has(change.external_product_id))
      .flatMap((change) =>
        chunks(pick(change)).map((part) => ({ external_product_id: change.external_product_id, plans: part })),
      )
  const batchJobs: [AsyncBatchType, Mode, unknown[], ProductChange[]][] = [
    [
      'bulk_plans_create',
      modes.planCreates,
      tasksOf(upserts, (c) => c.planCreates.map((p) => p.body)),
      upserts.filter((c) => c.planCreates.length > 0),
    ],
    [
      'bulk_plans_update',
      modes.planUpdates,
      tasksOf(upserts, (c) => c.planUpdates.map((p) => p.body)),
      upserts.filter((c) => c.planUpdates.length > 0),
    ],
    [
      'bulk_plans_delete',
      modes.planDeletes,
      tasksOf(plan.changes, (c) => c.planDeletes.map((p) => ({ id: p.id }))),
      plan.changes.filter((c) => c.planDeletes.length > 0),
    ],
  ]
  for (const [type, mode, bodies, touched] of batchJobs) {
    if (mode !== 'batch' || bodies.length === 0) continue
    report('batch')
    for (const change of touched) options.onChanged?.(change.external_product_id)
    for (let start = 0; start < bodies.length; start += asyncBatchMaxTasksPerBatch) {
      const failures = await runBatch(
        batchOptions,
        type,
        bodies.slice(start, start + asyncBatchMaxTasksPerBatch),
        track,
      )
      errors.push(...failures)
    }
    for (const change of touched) {
      if (change.product !== 'delete' && !done.has(change.external_product_id)) {
        done.add(change.external_product_id)
        productsDone += 1
      }
    }
    await save(true)
  }

  // 6. Products the feed no longer lists: their plans (per product when not batched), then the product.
  report('writing')
  for (const change of removals) {
    const id = change.external_product_id
    let ok = true
    if (modes.planDeletes === 'bulk') {
      ok = await inChunks(change, 'plans.delete', change.planDeletes, (part) =>
        plans.bulkDelete(
          id,
          part.map((p) => p.id),
        ),
      )
    }
    if (ok) ok = await attempt(change, 'product.delete', () => products.delete(id))
    if (ok) {
      done.add(id)
      productsDone += 1
    }
    options.onProgress?.(progress())
    await save()
  }

  await withRetries(() => deps.state.clearCheckpoint()).catch(() => {})
  report('done')
  const result = finish()
  log.info(
    { jobId: options.jobId, calls: result.calls, totals: result.totals, errors: errors.length },
    'catalog sync done',
  )
  return result
}
