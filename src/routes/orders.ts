import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { privateResponse, problems, shopperDocs, shopperOf } from '../shopper/http.ts'
import { publicOrder } from '../shopper/mappers.ts'
import { orderSchema } from '../shopper/schemas.ts'

/** GET /v1/orders: the shopper's order history, newest first (the latest 250). */
export default async function orderRoutes(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  routes.get(
    '/orders',
    {
      preHandler: app.requireShopper,
      schema: {
        ...shopperDocs,
        summary: 'Order history',
        response: { 200: z.object({ orders: z.array(orderSchema) }), ...problems },
      },
    },
    async (request, reply) => {
      const orders = await app.shopperServices.records.orders(shopperOf(request).customerId)
      privateResponse(reply, orders.state)
      return { orders: orders.rows.map(publicOrder) }
    },
  )
}
