import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { meSchema, profilePatchSchema } from '../shopper/account-schemas.ts'
import {
  actionContext,
  idempotencyHeader,
  privateResponse,
  problems,
  shopperDocs,
  shopperOf,
  writeProblems,
} from '../shopper/http.ts'
import { publicCustomer } from '../shopper/mappers.ts'
import { problemSchema } from '../shopper/schemas.ts'

/**
 * GET /v1/me: the signed-in shopper's Recharge customer, safe fields only, and `payment_recovery` when a payment
 * failed or no payment method is usable (what happened, in a sentence, and the route that fixes it).
 * PATCH /v1/me: first and last name and phone (policy update_profile); the email only under change_email too.
 */
export default async function meRoutes(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  const { records, paymentMethods, profile } = app.shopperServices

  routes.get(
    '/me',
    {
      preHandler: app.requireShopper,
      schema: {
        ...shopperDocs,
        summary: "The shopper's Recharge customer",
        description:
          'Safe fields only. `payment_recovery` is set when a charge failed (Recharge is retrying it: dunning) or no ' +
          'payment method is usable: show its `message` and offer its `action` (a bridge route to POST).',
        response: { 200: meSchema, ...problems },
      },
    },
    async (request, reply) => {
      const customerId = shopperOf(request).customerId
      const { value, state } = await records.customer(customerId)
      const recovery = await paymentMethods.recovery(customerId, value)
      privateResponse(reply, state)
      return { ...publicCustomer(value), payment_recovery: recovery }
    },
  )

  routes.patch(
    '/me',
    {
      preHandler: app.requireShopper,
      config: { idempotency: 'optional' },
      schema: {
        ...shopperDocs,
        summary: "Change the shopper's name, phone or email",
        description:
          'first_name, last_name and phone need the store policy update_profile; email also needs change_email ' +
          '(off by default). After an email change, customer tokens must name the new email.',
        headers: idempotencyHeader,
        body: profilePatchSchema,
        response: {
          200: meSchema,
          ...writeProblems,
          422: problemSchema.describe(
            'Recharge refused a field (UPSTREAM_REJECTED), or the email is used by another customer (EMAIL_IN_USE)',
          ),
        },
      },
    },
    async (request, reply) => {
      const context = actionContext(request)
      const updated = await profile.update(context, request.body)
      const recovery = await paymentMethods.recovery(context.shopper.customerId, updated)
      privateResponse(reply)
      return { ...publicCustomer(updated), payment_recovery: recovery }
    },
  )
}
