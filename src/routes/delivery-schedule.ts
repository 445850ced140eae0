import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { dateSkipBodySchema, deliverySchema, scheduleQuerySchema } from '../shopper/delivery-schemas.ts'
import {
  actionContext,
  idempotencyHeader,
  privateResponse,
  problems,
  shopperDocs,
  shopperOf,
  writeProblems,
} from '../shopper/http.ts'

/** The shopper's upcoming deliveries by date, and skipping one that has no charge yet (src/shopper/charges.ts). */
export default async function deliveryScheduleRoutes(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  const { deliverySchedule, charges } = app.shopperServices

  routes.get(
    '/delivery-schedule',
    {
      preHandler: app.requireShopper,
      schema: {
        ...shopperDocs,
        summary: 'Upcoming deliveries by date',
        description:
          'Each delivery (a date and an address) with its subscription and one-time lines, whether it can be skipped ' +
          'or restored, and the charge to do it with (none yet for a date further out: skip those by date).',
        querystring: scheduleQuerySchema,
        response: { 200: z.object({ deliveries: z.array(deliverySchema) }), ...problems },
      },
    },
    async (request, reply) => {
      const result = await deliverySchedule.list(shopperOf(request).customerId, request.query.weeks)
      privateResponse(reply, result.state)
      return { deliveries: result.deliveries }
    },
  )

  routes.post(
    '/delivery-schedule/skip',
    {
      preHandler: app.requireShopper,
      config: { idempotency: 'optional' },
      schema: {
        ...shopperDocs,
        summary: 'Skip a delivery by its date',
        description:
          'For a delivery with or without a charge yet. The date must be one of the schedule’s (else 422 ' +
          'NOT_IN_SCHEDULE); subscription_ids default to every skippable subscription of that delivery (an id not on ' +
          'it: 422 NOT_ON_DELIVERY). Policy switch: skip. Answers the delivery as it is now.',
        headers: idempotencyHeader,
        body: dateSkipBodySchema,
        response: { 200: deliverySchema, ...writeProblems },
      },
    },
    async (request, reply) => {
      const delivery = await charges.skipDate(actionContext(request), request.body)
      privateResponse(reply)
      return delivery
    },
  )
}
