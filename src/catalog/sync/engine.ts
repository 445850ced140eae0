import { AppError } from '../../errors.ts'
import { loadSagaCheckpoint, type SagaCheckpointStore, SagaRun } from '../../infra/saga.ts'
import { asyncBatchesResource } from '../../recharge/resources/async-batches.ts'
import { plansResource } from '../../recharge/resources/plans.ts'
import { productsResource } from '../../recharge/resources/products.ts'
import { storeResource } from '../../recharge/resources/store.ts'
import { type AsyncBatchType, asyncBatchMaxTasksPerBatch } from '../../recharge/schemas/async-batches.ts'
import type { RechargeTransport } from '../../recharge/types.ts'
import { desiredProduct } from '../desired.ts'
import { diffCatalog, type ProductChange } from '../diff.ts'
import { validateFeed } from '../feed.ts'
import { type BatchRunnerOptions, runBatch, waitForBatch } from './batches.ts'
import { type CallCounts, countingTransport } from './counting-transport.ts'
import { FeedInvalidError, feedHash } from './feed-invalid.ts'
import { readCurrentState } from './snapshot.ts'
import type { Checkpoint, SyncStateStore } from './state-store.ts'
import type { PlanStrategy, SyncError, SyncPhase, SyncProgress, SyncReport } from './types.ts'
import { chooseModes, chunks, type Mode, plannedChanges, plannedWrites, refuseDeletes } from './write-plan.ts'

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

function errorCode(error: unknown): { code: string; message: string } {
  if (error && typeof error === 'object' && 'toAppError' in error && typeof error.toAppError === 'function') {
    const appError = (error.toAppError as () => AppError)()
    return { code: appError.code, message: appError.detail ?? appError.title }
  }
  if (error instanceof AppError) return { code: error.code, message: error.detail ?? error.title }
  return { code: 'INTERNAL', message: error instanceof Error ? error.name : 'error' }
}

type PendingBatch = NonNullable<Checkpoint['batch']>

/** The sync's checkpoint, in its stored shape (`feedHash`, `batch`), as the saga runner's. */
function sagaStore(state: SyncStateStore): SagaCheckpointStore<PendingBatch> {
  return {
    async load() {
      const stored = await state.loadCheckpoint()
      if (!stored) return null
      const { feedHash: inputHash, batch: pending, ...rest } = stored
      return { ...rest, inputHash, pending }
    },
    save: ({ jobId, inputHash, startedAt, updatedAt, done, writes, pending }) =>
      state.saveCheckpoint({ jobId, feedHash: inputHash, startedAt, updatedAt, done, writes, batch: pending }),
    clear: () => state.clearCheckpoint(),
  }
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
  const checkpoints = sagaStore(deps.state)
  const previous = dryRun ? null : await loadSagaCheckpoint(checkpoints)
  const resumed = previous !== null && previous.inputHash === hash
  if (previous?.pending?.submitted) {
    log.info({ batchId: previous.pending.id }, 'catalog sync: waiting for the async batch of the interrupted run')
    await waitForBatch(batchOptions, previous.pending.id).catch((error: unknown) => {
      log.warn(
        { batchId: previous.pending?.id, error: errorCode(error).code },
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
  if (!dryRun) refuseDeletes(plan, current.products.size, options)
  const modes = chooseModes(options.planStrategy ?? 'auto', plan)
  const productWrites = plan.totals.productCreates + plan.totals.productUpdates + plan.totals.productDeletes
  totalWrites = plannedWrites(plan, modes)
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
  const run = new SagaRun<PendingBatch>({
    name: 'catalog sync',
    jobId: options.jobId,
    inputHash: hash,
    store: checkpoints,
    previous,
    log,
    writes: () => counts.writes,
    describeError: errorCode,
    onFailure: ({ item, operation, code, message }) =>
      errors.push({ external_product_id: item, operation, code, message }),
    onTouched: options.onChanged,
    signal: options.signal,
  })
  await run.save(true)
  const attempt = (change: ProductChange | null, operation: string, write: () => Promise<unknown>) =>
    run.attempt(change?.external_product_id ?? null, operation, write)

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
      run.complete(id)
      productsDone += 1
    }
    options.onProgress?.(progress())
    await run.save()
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
        (batch) => run.track(batch),
      )
      errors.push(...failures)
    }
    for (const change of touched) {
      if (change.product !== 'delete' && run.complete(change.external_product_id)) productsDone += 1
    }
    await run.save(true)
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
      run.complete(id)
      productsDone += 1
    }
    options.onProgress?.(progress())
    await run.save()
  }

  await run.finish()
  report('done')
  const result = finish()
  log.info(
    { jobId: options.jobId, calls: result.calls, totals: result.totals, errors: errors.length },
    'catalog sync done',
  )
  return result
}
