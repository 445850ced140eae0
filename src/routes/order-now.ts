import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { actionContext, privateResponse, shopperDocs, writeProblems } from '../shopper/http.ts'
import { idParamsSchema, problemSchema } from '../shopper/schemas.ts'
import { chargeWithDiscountsSchema, presentDiscountedCharge } from './discounts.ts'

/**
 * "Order now" (policy action order_now, off by default): bill an upcoming charge today. Idempotency-Key required and a
 * per-charge lock, as for a checkout charge; a lost answer is read back, never re-sent (src/shopper/order-now.ts).
 */
export default async function orderNowRoutes(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  const { orderNow } = app.shopperServices

  routes.post(
    '/charges/:id/process',
    {
      preHandler: app.requireShopper,
      config: { idempotency: 'required' },
      schema: {
        ...shopperDocs,
        summary: 'Order now: bill an upcoming delivery today (requires Idempotency-Key)',
        description:
          'Only when the store policy turns on order_now. One Idempotency-Key per attempt: a repeat gets the first ' +
          'answer. Errors: CHARGE_NOT_QUEUED (422, skipped or already billed), ORDER_NOW_IN_PROGRESS (409, another ' +
          'request is ordering it), IDEMPOTENCY_KEY_REQUIRED (428), ACTION_NOT_ALLOWED (403), NOT_FOUND. When ' +
          'Recharge does not confirm and the charge cannot be read back, a 502/504 with outcome "unknown": read the ' +
          'charge before ordering again.',
        params: idParamsSchema,
        headers: z.object({
          'idempotency-key': z.string().optional().describe('Required: one key per attempt (a UUID)'),
        }),
        response: {
          200: chargeWithDiscountsSchema,
          ...writeProblems,
          409: problemSchema.describe('ORDER_NOW_IN_PROGRESS, or the same Idempotency-Key still in flight'),
          428: problemSchema.describe('IDEMPOTENCY_KEY_REQUIRED'),
        },
      },
    },
    async (request, reply) => {
      const charge = await orderNow.process(actionContext(request), request.params.id)
      privateResponse(reply)
      return presentDiscountedCharge(charge)
    },
  )
}
