import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { DiscountedCharge } from '../recharge/schemas/retention.ts'
import { actionContext, idempotencyHeader, privateResponse, shopperDocs, writeProblems } from '../shopper/http.ts'
import { publicCharge } from '../shopper/mappers.ts'
import { chargeSchema, idParamsSchema, problemSchema } from '../shopper/schemas.ts'

const codeBodySchema = z
  .object({ code: z.string().trim().min(1).max(64).describe('A discount code of the store (case-insensitive)') })
  .strict()

const addressDiscountSchema = z.object({
  address_id: z.string(),
  discount_code: z.string().nullable().describe('The code the address carries now (null: none)'),
})

export const chargeWithDiscountsSchema = chargeSchema.extend({
  discounts: z
    .array(z.object({ code: z.string().nullable(), value: z.string().nullable(), value_type: z.string().nullable() }))
    .describe('Discounts on this charge (its own, or its address’s)'),
})

const discountProblems = {
  ...writeProblems,
  422: problemSchema.describe(
    'DISCOUNT_NOT_FOUND, DISCOUNT_EXPIRED, DISCOUNT_NOT_APPLICABLE (inactive, other products or customers, order too ' +
      'small), DISCOUNT_ALREADY_APPLIED (one discount per address or charge), CHARGE_NOT_QUEUED, or UNPROCESSABLE',
  ),
}

export function presentDiscountedCharge(charge: DiscountedCharge) {
  return {
    ...publicCharge(charge),
    discounts: charge.discounts.map((line) => ({ code: line.code, value: line.value, value_type: line.value_type })),
  }
}

/**
 * Discount codes after checkout (policy action apply_discount): one code per address, carried by its upcoming
 * charges, or a code on one upcoming charge. Service: src/shopper/discounts.ts.
 */
export default async function discountRoutes(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  const { discounts } = app.shopperServices
  const write = { preHandler: app.requireShopper, config: { idempotency: 'optional' as const } }

  routes.post(
    '/addresses/:id/discount',
    {
      ...write,
      schema: {
        ...shopperDocs,
        summary: 'Apply a discount code to an address (its upcoming charges)',
        description:
          'Recharge holds one discount per address; an address that has one answers DISCOUNT_ALREADY_APPLIED ' +
          '(remove it first). The same code again is answered as done.',
        params: idParamsSchema,
        headers: idempotencyHeader,
        body: codeBodySchema,
        response: { 200: addressDiscountSchema, ...discountProblems },
      },
    },
    async (request, reply) => {
      const result = await discounts.applyToAddress(actionContext(request), request.params.id, request.body.code)
      privateResponse(reply)
      return result
    },
  )

  routes.delete(
    '/addresses/:id/discount',
    {
      ...write,
      schema: {
        ...shopperDocs,
        summary: 'Remove the discount code of an address',
        params: idParamsSchema,
        headers: idempotencyHeader,
        response: { 200: addressDiscountSchema, ...discountProblems },
      },
    },
    async (request, reply) => {
      const result = await discounts.removeFromAddress(actionContext(request), request.params.id)
      privateResponse(reply)
      return result
    },
  )

  routes.post(
    '/charges/:id/discount',
    {
      ...write,
      schema: {
        ...shopperDocs,
        summary: 'Apply a discount code to one upcoming charge',
        description: 'The charge must be queued; it takes no code when it or its address already has one.',
        params: idParamsSchema,
        headers: idempotencyHeader,
        body: codeBodySchema,
        response: { 200: chargeWithDiscountsSchema, ...discountProblems },
      },
    },
    async (request, reply) => {
      const charge = await discounts.applyToCharge(actionContext(request), request.params.id, request.body.code)
      privateResponse(reply)
      return presentDiscountedCharge(charge)
    },
  )

  routes.delete(
    '/charges/:id/discount',
    {
      ...write,
      schema: {
        ...shopperDocs,
        summary: 'Remove the discount code of one upcoming charge',
        params: idParamsSchema,
        headers: idempotencyHeader,
        response: { 200: chargeWithDiscountsSchema, ...discountProblems },
      },
    },
    async (request, reply) => {
      const charge = await discounts.removeFromCharge(actionContext(request), request.params.id)
      privateResponse(reply)
      return presentDiscountedCharge(charge)
    },
  )
}
