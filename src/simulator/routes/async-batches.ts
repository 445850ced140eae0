import type { FastifyInstance } from 'fastify'
import { readExternalId } from '../catalog.ts'
import type { Simulator } from '../context.ts'
import { fieldError, notFound, SimError } from '../errors.ts'
import { paginate, parseListQuery } from '../pagination.ts'
import type { SimState } from '../state.ts'
import type { AsyncBatch, AsyncBatchTask } from '../types.ts'
import { bodyOf, idParam, listEnvelope } from './helpers.ts'
import { createPlan } from './plans.ts'

const BATCH_TYPES = new Set(['bulk_plans_create', 'bulk_plans_update', 'bulk_plans_delete'])
const MAX_TASKS_PER_REQUEST = 1000
const MAX_TASKS_PER_BATCH = 10_000

function findBatch(state: SimState, id: number): AsyncBatch {
  const batch = state.asyncBatches.get(id)
  if (!batch) throw notFound()
  return batch
}

/**
 * Async batches for plans: create a batch, add tasks (≤ 1,000 per request, ≤ 10,000 per batch), submit it; tasks
 * run in the background (each task body is `{external_product_id, plans: [...]}` like the bulk endpoints) and the
 * batch ends `completed` with per-task results and an `async_batch/processed` event.
 */
export async function asyncBatchRoutes(app: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  app.post('/async_batches', async (request, reply) => {
    const state = sim.state
    const body = bodyOf(request, 'async_batch')
    if (typeof body.batch_type !== 'string' || !BATCH_TYPES.has(body.batch_type)) {
      throw fieldError('batch_type', `Must be one of: ${[...BATCH_TYPES].join(', ')}.`)
    }
    const now = state.timestamp()
    const batch: AsyncBatch = {
      id: state.nextId('async_batch', 720_001),
      batch_type: body.batch_type,
      closed_at: null,
      created_at: now,
      fail_task_count: 0,
      status: 'not_started',
      submitted_at: null,
      success_task_count: 0,
      total_task_count: 0,
      updated_at: now,
      version: '2021-11',
    }
    state.asyncBatches.set(batch.id, batch)
    state.asyncBatchTasks.set(batch.id, [])
    return reply.code(201).send({ async_batch: batch })
  })

  app.get('/async_batches', async (request) => {
    const state = sim.state
    const query = parseListQuery(request.query as Record<string, unknown>, {
      defaultSort: 'id-desc',
      sorts: ['id-asc', 'id-desc', 'created_at-asc', 'created_at-desc'],
    })
    const page = paginate([...state.asyncBatches.values()], query, (batch, field) =>
      String(batch[field as keyof AsyncBatch]),
    )
    return listEnvelope('async_batches', page, (batch) => batch)
  })

  app.get('/async_batches/:id', async (request) => ({ async_batch: findBatch(sim.state, idParam(request)) }))

  app.post('/async_batches/:id/tasks', async (request, reply) => {
    const state = sim.state
    const batch = findBatch(state, idParam(request))
    if (batch.status !== 'not_started')
      throw new SimError(422, { errors: { batch: ['Tasks can only be added before the batch is processed.'] } })
    const tasks = bodyOf(request).tasks
    if (!Array.isArray(tasks) || tasks.length === 0) throw fieldError('tasks', 'Must be a non-empty list.')
    if (tasks.length > MAX_TASKS_PER_REQUEST)
      throw fieldError('tasks', `At most ${MAX_TASKS_PER_REQUEST} tasks per request.`)
    const list = state.asyncBatchTasks.get(batch.id) as AsyncBatchTask[]
    if (list.length + tasks.length > MAX_TASKS_PER_BATCH)
      throw fieldError('tasks', `At most ${MAX_TASKS_PER_BATCH} tasks per batch.`)
    const now = state.timestamp()
    const created = tasks.map((task) => {
      const taskBody = (task && typeof task === 'object' ? (task as { body?: unknown }).body : undefined) ?? {}
      const entry: AsyncBatchTask = {
        id: state.nextId('async_batch_task', 8_800_001),
        batch_id: batch.id,
        body: taskBody as Record<string, unknown>,
        created_at: now,
        result: null,
        updated_at: now,
      }
      list.push(entry)
      return entry
    })
    batch.total_task_count = list.length
    batch.updated_at = now
    return reply.code(201).send({ async_batch_tasks: created })
  })

  app.get('/async_batches/:id/tasks', async (request) => {
    const state = sim.state
    const batch = findBatch(state, idParam(request))
    const query = parseListQuery(request.query as Record<string, unknown>, {
      defaultSort: 'id-asc',
      sorts: ['id-asc', 'id-desc'],
    })
    const page = paginate(state.asyncBatchTasks.get(batch.id) ?? [], query, () => 0)
    return listEnvelope('async_batch_tasks', page, (task) => task)
  })

  app.post('/async_batches/:id/process', async (request) => {
    const state = sim.state
    const batch = findBatch(state, idParam(request))
    if (batch.status !== 'not_started')
      throw new SimError(422, { errors: { batch: ['The batch was already submitted.'] } })
    if (batch.total_task_count === 0) throw new SimError(422, { errors: { batch: ['The batch has no tasks.'] } })
    batch.status = 'processing'
    batch.submitted_at = state.timestamp()
    batch.updated_at = batch.submitted_at
    setImmediate(() => runBatch(state, batch))
    return { async_batch: batch }
  })
}

function runBatch(state: SimState, batch: AsyncBatch): void {
  for (const task of state.asyncBatchTasks.get(batch.id) ?? []) {
    try {
      task.result = {
        status_code:
          batch.batch_type === 'bulk_plans_delete' ? 204 : batch.batch_type === 'bulk_plans_create' ? 201 : 200,
        output: runTask(state, batch.batch_type, task.body),
      }
      batch.success_task_count += 1
    } catch (error) {
      const status = error instanceof SimError ? error.status : 500
      task.result = {
        status_code: status,
        output: error instanceof SimError ? error.body : { errors: 'Internal server error' },
      }
      batch.fail_task_count += 1
    }
    task.updated_at = state.timestamp()
  }
  batch.status = 'completed'
  batch.closed_at = state.timestamp()
  batch.updated_at = batch.closed_at
  state.emit('async_batch/processed', { async_batch: batch })
}

function runTask(state: SimState, type: string, body: Record<string, unknown>): unknown {
  const productId = readExternalId(body.external_product_id)
  if (!productId || !state.products.has(productId)) throw fieldError('external_product_id', 'Product not found.')
  const plans = Array.isArray(body.plans) ? (body.plans as Record<string, unknown>[]) : []
  if (plans.length === 0) throw fieldError('plans', 'Must be a non-empty list.')
  if (type === 'bulk_plans_create') return { plans: plans.map((plan) => createPlan(state, productId, plan)) }
  if (type === 'bulk_plans_delete') {
    for (const plan of plans) {
      const id = Number(plan.id)
      if (!state.plans.has(id)) throw notFound()
      state.plans.delete(id)
      state.emit('plan/deleted', { plan: { id } })
    }
    return null
  }
  return {
    plans: plans.map((patch) => {
      const plan = state.plans.get(Number(patch.id))
      if (!plan) throw notFound()
      if (typeof patch.title === 'string') plan.title = patch.title
      if (patch.discount_amount !== undefined)
        plan.discount_amount = patch.discount_amount === null ? null : Number(patch.discount_amount).toFixed(2)
      if (patch.discount_type !== undefined) plan.discount_type = patch.discount_type as typeof plan.discount_type
      if (typeof patch.sort_order === 'number') plan.sort_order = patch.sort_order
      plan.updated_at = state.timestamp()
      state.emit('plan/updated', { plan })
      return plan
    }),
  }
}
