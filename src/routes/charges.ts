import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { privateResponse, problems, shopperDocs, shopperOf } from '../shopper/http.ts'
import { publicCharge } from '../shopper/mappers.ts'
import { chargeSchema, idParamsSchema } from '../shopper/schemas.ts'

/** GET /v1/charges[/:id]: the shopper's upcoming deliveries (queued and skipped charges), soonest first. */
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
}
