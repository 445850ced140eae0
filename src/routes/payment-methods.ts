import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { paymentMethodListSchema, updateLinkAnswerSchema } from '../shopper/account-schemas.ts'
import {
  actionContext,
  idempotencyHeader,
  privateResponse,
  problems,
  shopperDocs,
  shopperOf,
  writeProblems,
} from '../shopper/http.ts'
import { idParamsSchema, problemSchema } from '../shopper/schemas.ts'

/**
 * The shopper's payment methods, masked, and the way to fix a failing one: the bridge never sees card data, so
 * "update" means asking Recharge to email the shopper its secure update link (src/shopper/payment-methods.ts).
 */
export default async function paymentMethodRoutes(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  const { paymentMethods } = app.shopperServices

  routes.get(
    '/payment-methods',
    {
      preHandler: app.requireShopper,
      schema: {
        ...shopperDocs,
        summary: 'Payment methods (masked)',
        description:
          'Brand, last 4, expiry, whether it is the default, which addresses it pays for, and whether it is failing ' +
          '(expired, refused, or paying a charge that failed and is being retried). Never a processor token.',
        response: { 200: paymentMethodListSchema, ...problems },
      },
    },
    async (request, reply) => {
      const { methods, state } = await paymentMethods.list(shopperOf(request).customerId)
      privateResponse(reply, state)
      return { payment_methods: methods }
    },
  )

  routes.post(
    '/payment-methods/:id/update-link',
    {
      preHandler: app.requireShopper,
      config: { idempotency: 'optional' },
      schema: {
        ...shopperDocs,
        summary: 'Email the shopper a link to update a payment method',
        description:
          'Asks Recharge to send its "update your payment information" email (policy update_payment_method), at ' +
          'most once per shopper every 10 minutes (429 with Retry-After). Answers 202: the email is on its way. ' +
          'Recharge keeps no record of sent emails, so a lost answer stays "outcome unknown" (and the 10 minutes run).',
        params: idParamsSchema,
        headers: idempotencyHeader,
        response: {
          202: updateLinkAnswerSchema,
          ...writeProblems,
          429: problemSchema.describe('A link was requested recently (RATE_LIMITED, Retry-After in seconds)'),
        },
      },
    },
    async (request, reply) => {
      const answer = await paymentMethods.requestUpdateLink(actionContext(request), request.params.id)
      privateResponse(reply).code(202)
      return answer
    },
  )
}
