import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { chargeSkipBodySchema, deliverySchema } from '../shopper/delivery-schemas.ts'
import {
  actionContext,
  idempotencyHeader,
  privateResponse,
  problems,
  shopperDocs,
  shopperOf,
  writeProblems,
} from '../shopper/http.ts'
import { publicCharge } from '../shopper/mappers.ts'
import { chargeSchema, idParamsSchema } from '../shopper/schemas.ts'

/**
 * GET /v1/charges[/:id]: the shopper's upcoming deliveries (queued and skipped charges), soonest first.
 * POST /v1/charges/:id/skip|unskip: skip or restore any upcoming delivery, not only a subscription's next one.
 */
export default async function chargeRoutes(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  routes.get(
    '/charges',
    {
      preHandler: app.requireShopper,
      schema: {
        ...shopperDocs,
        summary: 'Upcoming deliveries',
        response: { 200: z.object({ charges: z.array(chargeSchema) }), ...problems },
      },
    },
    async (request, reply) => {
      const charges = await app.shopperServices.records.upcomingCharges(shopperOf(request).customerId)
      privateResponse(reply, charges.state)
      return { charges: charges.rows.map(publicCharge) }
    },
  )

  routes.get(
    '/charges/:id',
    {
      preHandler: app.requireShopper,
      schema: {
        ...shopperDocs,
        summary: 'One upcoming delivery',
        params: idParamsSchema,
        response: { 200: chargeSchema, ...problems },
      },
    },
    async (request, reply) => {
      const charge = await app.shopperServices.records.ownCharge(shopperOf(request).customerId, request.params.id)
      privateResponse(reply)
      return publicCharge(charge)
    },
  )

  for (const change of ['skip', 'unskip'] as const) {
    routes.post(
      `/charges/:id/${change}`,
      {
        preHandler: app.requireShopper,
        config: { idempotency: 'optional' },
        schema: {
          ...shopperDocs,
          summary: change === 'skip' ? 'Skip an upcoming delivery' : 'Restore a skipped delivery',
          description:
            (change === 'skip'
              ? 'The charge must be queued (else 422 CHARGE_NOT_SKIPPABLE). '
              : 'The charge must be skipped (else 422 CHARGE_NOT_SKIPPABLE). ') +
            'subscription_ids default to all of the shopper’s subscriptions on the charge; an id not on it is 422 ' +
            `NOT_ON_DELIVERY. Policy switch: ${change}. Answers the delivery as the schedule shows it now.`,
          params: idParamsSchema,
          headers: idempotencyHeader,
          body: chargeSkipBodySchema.optional(),
          response: { 200: deliverySchema, ...writeProblems },
        },
      },
      async (request, reply) => {
        const ids = request.body?.subscription_ids
        const delivery = await app.shopperServices.charges[change](actionContext(request), request.params.id, ids)
        privateResponse(reply)
        return delivery
      },
    )
  }
}
