import {
  type AsyncBatch,
  type AsyncBatchTask,
  type AsyncBatchType,
  asyncBatchEnvelope,
  asyncBatchMaxTasksPerRequest,
  asyncBatchTaskPageEnvelope,
  asyncBatchTasksEnvelope,
} from '../schemas/async-batches.ts'
import type { CallOptions, RechargeTransport } from '../types.ts'
import { MAX_PAGE_SIZE } from './products.ts'

const batchPath = (batchId: string) => `/async_batches/${encodeURIComponent(batchId)}`

/** Recharge 2021-11 async batches: bulk writes at a handful of calls instead of one call per object. */
export function asyncBatchesResource(transport: RechargeTransport) {
  return {
    create(batchType: AsyncBatchType, options?: CallOptions): Promise<AsyncBatch> {
      return transport.send(
        { method: 'POST', path: '/async_batches', body: { batch_type: batchType }, schema: asyncBatchEnvelope },
        options,
      )
    },

    /** Adds tasks, ≤ 1,000 per call (Recharge's limit); each task body is one plan operation. */
    async addTasks(batchId: string, bodies: readonly unknown[], options?: CallOptions): Promise<number> {
      let added = 0
      for (let start = 0; start < bodies.length; start += asyncBatchMaxTasksPerRequest) {
        const tasks = bodies.slice(start, start + asyncBatchMaxTasksPerRequest).map((body) => ({ body }))
        await transport.send(
          { method: 'POST', path: `${batchPath(batchId)}/tasks`, body: { tasks }, schema: asyncBatchTasksEnvelope },
          options,
        )
        added += tasks.length
      }
      return added
    },

    process(batchId: string, options?: CallOptions): Promise<AsyncBatch> {
      return transport.send(
        { method: 'POST', path: `${batchPath(batchId)}/process`, schema: asyncBatchEnvelope },
        options,
      )
    },

    get(batchId: string, options?: CallOptions): Promise<AsyncBatch> {
      return transport.send({ method: 'GET', path: batchPath(batchId), schema: asyncBatchEnvelope }, options)
    },

    /** Every task of a batch with its result, page by page. */
    async listTasks(batchId: string, options?: CallOptions): Promise<AsyncBatchTask[]> {
      const tasks: AsyncBatchTask[] = []
      let cursor: string | null = null
      do {
        const query: Record<string, string | number> = cursor
          ? { cursor, limit: MAX_PAGE_SIZE }
          : { limit: MAX_PAGE_SIZE }
        const page = await transport.send(
          { method: 'GET', path: `${batchPath(batchId)}/tasks`, query, schema: asyncBatchTaskPageEnvelope },
          options,
        )
        tasks.push(...page.async_batch_tasks)
        cursor = page.next_cursor
      } while (cursor)
      return tasks
    },
  }
}

export type AsyncBatchesResource = ReturnType<typeof asyncBatchesResource>
