import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { orderDetailSchema, orderPageQuerySchema, orderPageSchema } from '../shopper/account-schemas.ts'
import { privateResponse, problems, shopperDocs, shopperOf } from '../shopper/http.ts'
import { publicAddressFields, publicOrder } from '../shopper/mappers.ts'
import { idParamsSchema, problemSchema } from '../shopper/schemas.ts'

/**
 * The shopper's order history: GET /v1/orders pages it newest first with signed cursors (bound to the shopper);
 * GET /v1/orders/:id reads one of their orders (ownership: src/shopper/orders.ts).
 */
export default async function orderRoutes(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  const { orders } = app.shopperServices

  routes.get(
    '/orders',
    {
      preHandler: app.requireShopper,
      schema: {
        ...shopperDocs,
        summary: 'Order history',
        description:
          'Newest first, `limit` per page (default 50). Follow `next_cursor` with ?cursor= for older orders; a cursor ' +
          'works only for the shopper it was issued to, and a made-up one is a 400.',
        querystring: orderPageQuerySchema,
        response: {
          200: orderPageSchema,
          400: problemSchema.describe('Invalid limit, or a cursor this API did not issue to this shopper'),
          ...problems,
        },
      },
    },
    async (request, reply) => {
      const { cursor, limit } = request.query
      const page = await orders.page(shopperOf(request).customerId, cursor, limit)
      privateResponse(reply, page.state)
      return { orders: page.orders.map(publicOrder), next_cursor: page.nextCursor }
    },
  )

  routes.get(
    '/orders/:id',
    {
      preHandler: app.requireShopper,
      schema: {
        ...shopperDocs,
        summary: 'One order',
        description: 'One of the shopper’s orders, with its shipping address. Another shopper’s order id is a 404.',
        params: idParamsSchema,
        response: { 200: orderDetailSchema, ...problems },
      },
    },
    async (request, reply) => {
      const order = await orders.one(shopperOf(request).customerId, request.params.id)
      privateResponse(reply)
      return {
        ...publicOrder(order),
        shipping_address: order.shipping_address ? publicAddressFields(order.shipping_address) : null,
      }
    },
  )
}
