import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { changeAddressBodySchema } from '../shopper/account-schemas.ts'
import { actionContext, idempotencyHeader, privateResponse, shopperDocs, writeProblems } from '../shopper/http.ts'
import { publicSubscription } from '../shopper/mappers.ts'
import { allowedActions } from '../shopper/policy-checks.ts'
import { idParamsSchema, subscriptionSchema } from '../shopper/schemas.ts'

/** POST /v1/subscriptions/:id/change-address: move a subscription to another of the shopper's addresses. */
export default async function subscriptionAddressRoutes(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  const { addresses, records, policy } = app.shopperServices

  routes.post(
    '/subscriptions/:id/change-address',
    {
      preHandler: app.requireShopper,
      config: { idempotency: 'optional' },
      schema: {
        ...shopperDocs,
        summary: 'Ship a subscription to another address',
        description:
          'Both the subscription and `address_id` must be the shopper’s own (404 otherwise, with no upstream call). ' +
          'Policy change_address. Its upcoming charges move with it.',
        params: idParamsSchema,
        headers: idempotencyHeader,
        body: changeAddressBodySchema,
        response: { 200: subscriptionSchema, ...writeProblems },
      },
    },
    async (request, reply) => {
      const context = actionContext(request)
      const moved = await addresses.changeSubscriptionAddress(context, request.params.id, request.body.address_id)
      const charges = (await records.upcomingCharges(context.shopper.customerId)).rows
      privateResponse(reply)
      return publicSubscription(moved, allowedActions(policy, moved, charges))
    },
  )
}
