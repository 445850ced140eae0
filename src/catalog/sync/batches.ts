import { setTimeout as sleep } from 'node:timers/promises'
import { AppError } from '../../errors.ts'
import type { AsyncBatchesResource } from '../../recharge/resources/async-batches.ts'
import type { AsyncBatch, AsyncBatchType } from '../../recharge/schemas/async-batches.ts'
import type { Checkpoint } from './state-store.ts'
import type { SyncError } from './types.ts'

export interface BatchRunnerOptions {
  batches: AsyncBatchesResource
  signal?: AbortSignal
  /** First poll interval (grows ×1.5 up to 5 s). Default 500 ms. */
  pollMs?: number
  /** Longest wait for one batch. Default 15 min. */
  timeoutMs?: number
}

/** Poll a batch until Recharge reports it `completed` or `failed`. */
export async function waitForBatch(options: BatchRunnerOptions, batchId: string): Promise<AsyncBatch> {
  const deadline = Date.now() + (options.timeoutMs ?? 15 * 60_000)
  let interval = options.pollMs ?? 500
  for (;;) {
    const batch = await options.batches.get(batchId)
    if (batch.status === 'completed' || batch.status === 'failed') return batch
    if (Date.now() > deadline)
      throw new AppError('UPSTREAM_TIMEOUT', { detail: 'The async batch did not finish in time' })
    await sleep(interval, undefined, options.signal ? { signal: options.signal } : undefined)
    interval = Math.min(interval * 1.5, 5_000)
  }
}

function productOfTask(body: unknown): string | null {
  if (!body || typeof body !== 'object' || !('external_product_id' in body)) return null
  const ref = body.external_product_id
  if (typeof ref === 'string') return ref
  if (ref && typeof ref === 'object' && 'ecommerce' in ref && typeof ref.ecommerce === 'string') return ref.ecommerce
  return null
}

/**
 * One async batch from start to results: create it, add the tasks (≤ 1,000 per call), submit it, wait, read the
 * per-task results. `track` records the batch in the checkpoint at each step — submitted *before* the submit call, so
 * a run that dies while it is in flight makes the next run wait for the batch instead of racing it.
 */
export async function runBatch(
  options: BatchRunnerOptions,
  type: AsyncBatchType,
  bodies: readonly unknown[],
  track: (batch: Checkpoint['batch']) => Promise<void>,
): Promise<SyncError[]> {
  const { batches } = options
  const batch = await batches.create(type)
  await track({ id: batch.id, type, submitted: false })
  await batches.addTasks(batch.id, bodies)
  options.signal?.throwIfAborted()
  await track({ id: batch.id, type, submitted: true })
  await batches.process(batch.id)
  const final = await waitForBatch(options, batch.id)
  const tasks = await batches.listTasks(batch.id)
  const errors: SyncError[] = []
  for (const task of tasks) {
    const status = task.result?.status_code ?? 0
    if (status >= 400) {
      errors.push({
        external_product_id: productOfTask(task.body),
        operation: type,
        code: `UPSTREAM_${status}`,
        message: 'the async batch task failed',
      })
    }
  }
  if (final.status === 'failed' && errors.length === 0) {
    errors.push({ external_product_id: null, operation: type, code: 'BATCH_FAILED', message: 'the async batch failed' })
  }
  await track(null)
  return errors
}
