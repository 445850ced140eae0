import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import {
  actionContext,
  idempotencyHeader,
  privateResponse,
  problems,
  shopperDocs,
  shopperOf,
  writeProblems,
} from '../shopper/http.ts'
import { publicSubscription } from '../shopper/mappers.ts'
import { allowedActions, rescheduleWindow } from '../shopper/policy-checks.ts'
import {
  cancelBodySchema,
  idParamsSchema,
  subscriptionDetailSchema,
  subscriptionPatchSchema,
  subscriptionSchema,
} from '../shopper/schemas.ts'
import { subscriptionView } from './subscription-view.ts'

/**
 * The shopper's subscriptions and the self-serve actions on them. Reads come from the shopper's cached lists; every
 * id is looked up there first (a foreign id is a 404 with no upstream call); writes are policy-checked, carry an
 * optional Idempotency-Key and invalidate the shopper's cached records.
 */
export default async function subscriptionRoutes(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  const { records, subscriptions: actions, policy, pauses } = app.shopperServices

  const { upcoming, present } = subscriptionView(app.shopperServices)

  routes.get(
    '/subscriptions',
    {
      preHandler: app.requireShopper,
      schema: {
        ...shopperDocs,
        summary: "The shopper's subscriptions",
        querystring: z.object({
          status: z.enum(['active', 'cancelled', 'expired']).optional().describe('Only subscriptions in this status'),
        }),
        response: {
          200: z.object({
            subscriptions: z.array(subscriptionSchema),
            actions_complete: z
              .boolean()
              .describe(
                'false when the upcoming charges could not be read in time (Recharge busy or failing): skip and unskip ' +
                  'are then missing from allowed_actions; GET /v1/subscriptions/:id tells them for one subscription',
              ),
          }),
          ...problems,
        },
      },
    },
    async (request, reply) => {
      const customerId = shopperOf(request).customerId
      const [subscriptions, charges] = await Promise.all([records.subscriptions(customerId), upcoming(request, true)])
      privateResponse(reply, subscriptions.state)
      const rows = request.query.status
        ? subscriptions.rows.filter((row) => row.status === request.query.status)
        : subscriptions.rows
      const paused = await pauses.pausedUntil(customerId, rows)
      return {
        subscriptions: rows.map((row) => {
          const until = paused.get(row.id) ?? null
          return publicSubscription(row, allowedActions(policy, row, charges ?? [], until), until)
        }),
        actions_complete: charges !== null,
      }
    },
  )

  routes.get(
    '/subscriptions/:id',
    {
      preHandler: app.requireShopper,
      schema: {
        ...shopperDocs,
        summary: 'One subscription, with the options the shopper may choose from',
        params: idParamsSchema,
        response: { 200: subscriptionDetailSchema, ...problems },
      },
    },
    async (request, reply) => {
      const subscription = await records.ownSubscription(shopperOf(request).customerId, request.params.id)
      const [base, options] = await Promise.all([present(request, subscription), actions.options(subscription)])
      privateResponse(reply)
      return {
        ...base,
        ...options,
        quantity_bounds: { ...policy.quantity },
        reschedule_window: rescheduleWindow(policy),
        cancellation_reasons: [...policy.cancel.reasons],
      }
    },
  )

  const writeSchema = (summary: string, description: string) => ({
    ...shopperDocs,
    summary,
    description,
    params: idParamsSchema,
    headers: idempotencyHeader,
    response: { 200: subscriptionSchema, ...writeProblems },
  })
  const writeConfig = { idempotency: 'optional' as const }

  routes.post(
    '/subscriptions/:id/skip',
    {
      preHandler: app.requireShopper,
      config: writeConfig,
      schema: writeSchema('Skip the next delivery', 'Skips this subscription on its next queued charge.'),
    },
    async (request, reply) => {
      const updated = await actions.skip(actionContext(request), request.params.id)
      privateResponse(reply)
      return present(request, updated)
    },
  )

  routes.post(
    '/subscriptions/:id/unskip',
    {
      preHandler: app.requireShopper,
      config: writeConfig,
      schema: writeSchema('Restore a skipped delivery', 'Puts this subscription back on its skipped charge.'),
    },
    async (request, reply) => {
      const updated = await actions.unskip(actionContext(request), request.params.id)
      privateResponse(reply)
      return present(request, updated)
    },
  )

  routes.post(
    '/subscriptions/:id/cancel',
    {
      preHandler: app.requireShopper,
      config: writeConfig,
      schema: {
        ...writeSchema('Cancel', 'Requires one of the store cancellation reasons; a comment is optional.'),
        body: cancelBodySchema,
      },
    },
    async (request, reply) => {
      const updated = await actions.cancel(actionContext(request), request.params.id, request.body)
      privateResponse(reply)
      return present(request, updated)
    },
  )

  routes.post(
    '/subscriptions/:id/activate',
    {
      preHandler: app.requireShopper,
      config: writeConfig,
      schema: writeSchema('Reactivate a cancelled subscription', 'Reactivates a subscription the shopper cancelled.'),
    },
    async (request, reply) => {
      const updated = await actions.activate(actionContext(request), request.params.id)
      privateResponse(reply)
      return present(request, updated)
    },
  )

  routes.patch(
    '/subscriptions/:id',
    {
      preHandler: app.requireShopper,
      config: writeConfig,
      schema: {
        ...writeSchema(
          'Change the next date, frequency, quantity or variant',
          'Each change must be allowed by the store policy: the date inside reschedule_window, the frequency one of ' +
            'frequency_options, the quantity inside quantity_bounds, the variant one of variant_options.',
        ),
        body: subscriptionPatchSchema,
      },
    },
    async (request, reply) => {
      const updated = await actions.update(actionContext(request), request.params.id, request.body)
      privateResponse(reply)
      return present(request, updated)
    },
  )
}
