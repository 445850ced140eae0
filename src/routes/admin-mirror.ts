import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AppError } from '../errors.ts'
import { adminDocs, problems } from '../shopper/http.ts'

const mirrorStatusSchema = z.object({
  state: z.enum(['warming', 'ready', 'degraded']),
  customers: z.number().int(),
  subscriptions: z.number().int(),
  charges: z.number().int(),
  lag_ms: z
    .number()
    .nullable()
    .describe('ms from the bridge receiving the newest applied webhook to the mirror holding it'),
  last_reconciled_at: z.string().nullable().describe('ISO 8601: when the last full pass or reconciliation completed'),
})

/** The account mirror's state for operators (ADMIN_API_KEY); docs/mirror.md. */
export default async function adminMirrorRoutes(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  routes.get(
    '/admin/mirror',
    {
      preHandler: app.requireAdmin,
      schema: {
        ...adminDocs,
        summary: "The account mirror's state",
        description:
          'warming until the first full pass completes (reads fall back to Recharge), then ready; degraded while ' +
          'Redis fails or reconciliation keeps failing. Counts are of records held. 404 when MIRROR=off.',
        response: { 200: mirrorStatusSchema, 401: problems[401], 404: problems[404] },
      },
    },
    async (_request, reply) => {
      const mirror = app.mirror
      if (!mirror) throw new AppError('NOT_FOUND', { detail: 'The account mirror is off (MIRROR=off).' })
      reply.header('cache-control', 'no-store')
      return mirror.status()
    },
  )
}
