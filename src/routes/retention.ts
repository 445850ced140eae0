import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import {
  actionContext,
  idempotencyHeader,
  privateResponse,
  problems,
  shopperDocs,
  writeProblems,
} from '../shopper/http.ts'
import { idParamsSchema, subscriptionSchema } from '../shopper/schemas.ts'
import { subscriptionView } from './subscription-view.ts'

const offerSchema = z
  .object({
    id: z.string().describe('Offer id, for POST …/offers/:offerId/accept'),
    kind: z
      .enum(['discount', 'skip', 'pause', 'swap'])
      .describe('discount: a code on the next charges; skip: the next delivery; pause: a break; swap: another product'),
    source: z.enum(['policy', 'recharge']).describe("The policy file, or the store's Recharge retention strategies"),
    title: z.string(),
    discount_code: z.string().nullable().describe('kind discount: the code applied to the address'),
    pause_days: z.number().int().nullable().describe('kind pause: the next delivery moves this many days later'),
    pause_deliveries: z.number().int().nullable().describe('kind pause: this many deliveries are left out'),
    external_product_id: z.string().nullable().describe('kind swap: the product offered (null: the same product)'),
    external_variant_id: z
      .string()
      .nullable()
      .describe('kind swap: the variant offered (null: the shopper picks one of variant_options)'),
  })
  .describe('An offer shown instead of cancelling')

const reasonsSchema = z.object({
  reasons: z.array(
    z.object({
      reason: z.string().describe('A cancellation reason; POST …/cancel accepts it'),
      message: z.string().nullable().describe("The store's words for this reason (Recharge prevention text)"),
      offers: z.array(offerSchema),
    }),
  ),
})

const offerParamsSchema = idParamsSchema.extend({
  offerId: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'must be an offer id')
    .describe('An id from GET …/cancellation-offers'),
})

const acceptBodySchema = z
  .object({
    external_variant_id: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe('For a swap offer without a variant: one of the subscription variant_options'),
    external_product_id: z.string().min(1).max(64).optional(),
  })
  .strict()
  .optional()

const dateText = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')
const pauseBodySchema = z
  .union([
    z.object({ until: dateText.describe('The day the pause ends: the next charge moves to it') }).strict(),
    z
      .object({ deliveries: z.number().int().min(1).max(12).describe('How many deliveries the pause leaves out') })
      .strict(),
  ])
  .describe('Either until or deliveries, within the store policy (pause.max_days, pause.max_deliveries)')

/**
 * Keep the subscriber: the cancellation offers (GET …/cancellation-offers, POST …/offers/:offerId/accept) and pause
 * and resume. Services: src/shopper/retention-offers.ts and src/shopper/pause.ts, on the shared write pipeline
 * (policy, ownership with no upstream call for a foreign id, Idempotency-Key, confirmation of a lost answer,
 * invalidation of the shopper's records).
 */
export default async function retentionRoutes(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  const { pauses, offers } = app.shopperServices

  const { present } = subscriptionView(app.shopperServices)

  routes.get(
    '/subscriptions/:id/cancellation-offers',
    {
      preHandler: app.requireShopper,
      schema: {
        ...shopperDocs,
        summary: 'Cancellation reasons, each with the offers the store makes instead',
        description:
          'Show this before POST …/cancel: the store reasons (policy cancel.reasons, then the reasons of its Recharge ' +
          'retention strategies) with the offers that apply to this subscription now. Each listed offer is counted ' +
          'as shown in /metrics; a cancel with a reason then counts the offers shown for it as declined.',
        params: idParamsSchema,
        response: { 200: reasonsSchema, 403: writeProblems[403], 422: writeProblems[422], ...problems },
      },
    },
    async (request, reply) => {
      const reasons = await offers.list(actionContext(request), request.params.id)
      privateResponse(reply)
      return { reasons }
    },
  )

  routes.post(
    '/subscriptions/:id/offers/:offerId/accept',
    {
      preHandler: app.requireShopper,
      config: { idempotency: 'optional' },
      schema: {
        ...shopperDocs,
        summary: 'Accept a cancellation offer instead of cancelling',
        description:
          'Applies the offer: a discount code on the address (its next charges), a skip of the next delivery, a ' +
          'pause, or a swap. Each needs its own policy switch (apply_discount, skip, pause, swap_variant). Errors ' +
          'are those of that action (e.g. DISCOUNT_ALREADY_APPLIED); an offer not listed for this subscription is 404.',
        params: offerParamsSchema,
        headers: idempotencyHeader,
        body: acceptBodySchema,
        response: {
          200: z.object({ offer: offerSchema, subscription: subscriptionSchema }),
          ...writeProblems,
        },
      },
    },
    async (request, reply) => {
      const accepted = await offers.accept(
        actionContext(request),
        request.params.id,
        request.params.offerId,
        request.body ?? {},
      )
      privateResponse(reply)
      return { offer: accepted.offer, subscription: await present(request, accepted.subscription) }
    },
  )

  routes.post(
    '/subscriptions/:id/pause',
    {
      preHandler: app.requireShopper,
      config: { idempotency: 'optional' },
      schema: {
        ...shopperDocs,
        summary: 'Pause until a date or for a number of deliveries',
        description:
          'Recharge keeps a paused subscription active with its next charge on the day the pause ends ' +
          '(set_next_charge_date with the pause flag); the answer shows paused_until and offers resume. Bounded by ' +
          'the store policy: pause.max_days (the latest end, from today) and pause.max_deliveries.',
        params: idParamsSchema,
        headers: idempotencyHeader,
        body: pauseBodySchema,
        response: { 200: subscriptionSchema, ...writeProblems },
      },
    },
    async (request, reply) => {
      const updated = await pauses.pause(actionContext(request), request.params.id, request.body)
      privateResponse(reply)
      return present(request, updated)
    },
  )

  routes.post(
    '/subscriptions/:id/resume',
    {
      preHandler: app.requireShopper,
      config: { idempotency: 'optional' },
      schema: {
        ...shopperDocs,
        summary: 'End a pause now',
        description:
          'The next charge goes back to the date it had before the pause, or to tomorrow when that has passed. ' +
          'A subscription that is not paused is 422.',
        params: idParamsSchema,
        headers: idempotencyHeader,
        response: { 200: subscriptionSchema, ...writeProblems },
      },
    },
    async (request, reply) => {
      const updated = await pauses.resume(actionContext(request), request.params.id)
      privateResponse(reply)
      return present(request, updated)
    },
  )
}
