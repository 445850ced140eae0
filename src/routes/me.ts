import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { privateResponse, problems, shopperDocs, shopperOf } from '../shopper/http.ts'
import { publicCustomer } from '../shopper/mappers.ts'
import { customerSchema } from '../shopper/schemas.ts'

/** GET /v1/me: the signed-in shopper's Recharge customer, safe fields only. */
export default async function meRoutes(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  routes.get(
    '/me',
    {
      preHandler: app.requireShopper,
      schema: {
        ...shopperDocs,
        summary: "The shopper's Recharge customer",
        response: { 200: customerSchema, ...problems },
      },
    },
    async (request, reply) => {
      const { value, state } = await app.shopperServices.records.customer(shopperOf(request).customerId)
      privateResponse(reply, state)
      return publicCustomer(value)
    },
  )
}
