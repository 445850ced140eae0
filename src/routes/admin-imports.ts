import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AppError } from '../errors.ts'
import { parseNdjson } from '../import/ndjson.ts'
import type { RecordOutcome } from '../import/outcome.ts'
import { adminDocs, problems } from '../shopper/http.ts'

/** A whole subscriber base fits: 5,000 records of about 1 KB each, with room. */
const IMPORT_BODY_LIMIT = 16 * 1024 * 1024
const MAX_RECORDS = 50_000

const outcomeSchema = z.object({
  index: z.number().int(),
  external_order_id: z.string().nullable(),
  status: z.enum(['created', 'found', 'failed']),
  customer_id: z.string().nullable(),
  payment_method_id: z.string().nullable(),
  address_id: z.string().nullable(),
  subscription_ids: z.array(z.string()),
  created: z.object({
    customer: z.boolean(),
    payment_method: z.boolean(),
    address: z.boolean(),
    subscriptions: z.number().int(),
  }),
  step: z.enum(['validate', 'customer', 'payment_method', 'address', 'subscription']).optional(),
  code: z.string().optional(),
  message: z.string().optional(),
  retryable: z.boolean().optional(),
  calls: z.number().int().describe('Upstream calls this record took'),
})

const runSchema = z.object({
  id: z.string(),
  state: z.enum(['running', 'paused', 'done']),
  total: z.number().int(),
  source: z.enum(['api', 'cli']),
  created_at: z.string(),
  finished_at: z.string().nullable(),
  done: z.number().int(),
  created: z.number().int().describe('Records for which the import created something'),
  found: z.number().int().describe('Records that already existed whole in Recharge'),
  failed: z.number().int(),
  calls: z.number().int(),
  new_customer_records: z.number().int(),
  new_customer_calls: z.number().int(),
  existing_customer_records: z.number().int(),
  existing_customer_calls: z.number().int(),
  customers_created: z.number().int(),
  payment_methods_created: z.number().int(),
  addresses_created: z.number().int(),
  subscriptions_created: z.number().int(),
  failures: z.array(outcomeSchema).describe('The first 100 failed records, with the step and reason'),
})

const idParams = z.object({ id: z.uuid() })

function answerOutcome(outcome: RecordOutcome): { status: number; body: RecordOutcome } {
  if (outcome.status === 'created') return { status: 201, body: outcome }
  if (outcome.status === 'found') return { status: 200, body: outcome }
  const extensions = { outcome }
  if (outcome.retryable)
    throw new AppError('SERVICE_UNAVAILABLE', {
      detail: `The ${outcome.step} step failed (${outcome.code}); it is safe to send the record again`,
      retryAfter: 5,
      extensions,
    })
  throw new AppError('UNPROCESSABLE', {
    detail: `The ${outcome.step} step failed (${outcome.code}): ${outcome.message ?? ''}`,
    extensions,
  })
}

/** Import routes (ADMIN_API_KEY): externally paid orders and subscriber bases into Recharge; docs/import.md. */
export default async function adminImportRoutes(app: FastifyInstance): Promise<void> {
  app.addContentTypeParser(
    'application/x-ndjson',
    { parseAs: 'string', bodyLimit: IMPORT_BODY_LIMIT },
    (_request, body, done) => done(null, parseNdjson(String(body))),
  )
  const routes = app.withTypeProvider<ZodTypeProvider>()

  routes.post(
    '/admin/imports',
    {
      bodyLimit: IMPORT_BODY_LIMIT,
      preHandler: app.requireAdmin,
      schema: {
        ...adminDocs,
        summary: 'Import externally paid orders: one record (wait=true) or a run of many',
        description:
          'Body: one record (JSON object), a JSON array of records, or NDJSON (application/x-ndjson). With ' +
          'wait=true (one record): 201 when something was created, 200 when it all existed, 422 when the record ' +
          'is refused, 503 when Recharge failed (safe to send again). Without: 202 with the run to follow at ' +
          'GET /v1/admin/imports/{id}. Record format: schemas/import-record.schema.json.',
        querystring: z.object({ wait: z.enum(['true', 'false']).optional() }).strict(),
        body: z.union([z.record(z.string(), z.unknown()), z.array(z.unknown()).max(MAX_RECORDS)]),
        response: {
          200: outcomeSchema,
          201: outcomeSchema,
          202: runSchema,
          401: problems[401],
        },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store')
      const records = Array.isArray(request.body) ? request.body : [request.body]
      if (records.length === 0) throw new AppError('VALIDATION_FAILED', { detail: 'No records to import' })
      if (request.query.wait === 'true') {
        if (records.length !== 1)
          throw new AppError('VALIDATION_FAILED', { detail: 'wait=true takes exactly one record' })
        const { status, body } = answerOutcome(await app.imports.importOne(records[0]))
        return reply.code(status as 200 | 201).send(body)
      }
      const run = await app.imports.create(records, 'api')
      reply.header('location', `/v1/admin/imports/${run.id}`)
      return reply.code(202).send(run)
    },
  )

  routes.get(
    '/admin/imports/:id',
    {
      preHandler: app.requireAdmin,
      schema: {
        ...adminDocs,
        summary: "An import run's progress: total, done, created vs found, failures with their step and reason",
        params: idParams,
        response: { 200: runSchema, 401: problems[401], 404: problems[404] },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store')
      const run = await app.imports.status(request.params.id)
      if (!run) throw new AppError('NOT_FOUND', { detail: 'No such import run' })
      return run
    },
  )

  for (const action of ['pause', 'resume'] as const) {
    routes.post(
      `/admin/imports/:id/${action}`,
      {
        preHandler: app.requireAdmin,
        schema: {
          ...adminDocs,
          summary:
            action === 'pause'
              ? 'Pause an import run (records in flight finish, no new one starts)'
              : 'Resume a paused import run (on whichever replica takes it)',
          params: idParams,
          response: { 200: runSchema, 401: problems[401], 404: problems[404] },
        },
      },
      async (request, reply) => {
        reply.header('cache-control', 'no-store')
        const run = await app.imports[action](request.params.id)
        if (!run) throw new AppError('NOT_FOUND', { detail: 'No such import run' })
        return run
      },
    )
  }
}
