import { z } from 'zod'
import { id, integer, nullish, timestamp } from './lenient.ts'
import { listCursor } from './products.ts'

/**
 * Recharge 2021-11 async batches: create a batch of one `batch_type`, add ≤ 1,000 tasks per request (≤ 10,000 per
 * batch), submit it, poll until `completed`/`failed`, then page through per-task results.
 */
export const asyncBatchTypes = ['bulk_plans_create', 'bulk_plans_update', 'bulk_plans_delete'] as const
export type AsyncBatchType = (typeof asyncBatchTypes)[number]

export const asyncBatchStatusSchema = z
  .string()
  .transform((value) => value.trim().toLowerCase())
  .pipe(z.enum(['not_started', 'processing', 'completed', 'failed']).or(z.string()))

export const asyncBatchSchema = z.looseObject({
  id,
  batch_type: z.string(),
  status: asyncBatchStatusSchema,
  total_task_count: nullish(integer),
  submitted_at: nullish(timestamp),
  completed_at: nullish(timestamp),
  created_at: nullish(timestamp),
  updated_at: nullish(timestamp),
})

export type AsyncBatch = z.infer<typeof asyncBatchSchema>

export const asyncBatchEnvelope = z.object({ async_batch: asyncBatchSchema }).transform((body) => body.async_batch)

export const asyncBatchTaskSchema = z.looseObject({
  id: nullish(id),
  body: z.unknown().optional(),
  result: z
    .looseObject({
      status_code: nullish(integer),
      output: z.unknown().optional(),
    })
    .nullish(),
})

export type AsyncBatchTask = z.infer<typeof asyncBatchTaskSchema>

/** Adding tasks answers with the tasks created (or an empty body). */
export const asyncBatchTasksEnvelope = z
  .object({ async_batch_tasks: z.array(asyncBatchTaskSchema).nullish() })
  .nullish()
  .transform((body) => body?.async_batch_tasks ?? [])

export const asyncBatchTaskPageEnvelope = z.object({
  async_batch_tasks: z.array(asyncBatchTaskSchema),
  next_cursor: listCursor,
  previous_cursor: listCursor,
})

export const asyncBatchMaxTasksPerRequest = 1_000
export const asyncBatchMaxTasksPerBatch = 10_000
