import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { onetimeCreateSchema, onetimePatchSchema, onetimeSchema, publicOnetime } from '../shopper/delivery-schemas.ts'
import {
  actionContext,
  idempotencyHeader,
  privateResponse,
  problems,
  shopperDocs,
  shopperOf,
  writeProblems,
} from '../shopper/http.ts'
import { idParamsSchema } from '../shopper/schemas.ts'

const codes =
  'Errors: ACTION_NOT_ALLOWED (policy add_onetime), NOT_FOUND (not one of the shopper’s records), 422 ' +
  'PRODUCT_NOT_OFFERED (not in the catalog or not sold one-time), ADDRESS_NOT_ACTIVE (no active subscription at the ' +
  'address), DATE_NOT_ALLOWED (outside onetimes.max_days_ahead), NO_UPCOMING_DELIVERY (no date given and none queued), ' +
  'UNPROCESSABLE (quantity outside onetimes.max_quantity).'

/** One-time add-ons: catalog products put on an upcoming delivery once (src/shopper/onetimes.ts). */
export default async function onetimeRoutes(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  const { records, onetimes } = app.shopperServices
  const writeConfig = { idempotency: 'optional' as const }

  routes.get(
    '/onetimes',
    {
      preHandler: app.requireShopper,
      schema: {
        ...shopperDocs,
        summary: 'One-time items on upcoming deliveries',
        response: { 200: z.object({ onetimes: z.array(onetimeSchema) }), ...problems },
      },
    },
    async (request, reply) => {
      const list = await records.onetimes(shopperOf(request).customerId)
      privateResponse(reply, list.state)
      return { onetimes: list.rows.map(publicOnetime) }
    },
  )

  routes.post(
    '/onetimes',
    {
      preHandler: app.requireShopper,
      config: writeConfig,
      schema: {
        ...shopperDocs,
        summary: 'Add a product to an upcoming delivery, once',
        description: `Priced from the store catalog. Lands on the next queued delivery of the address unless next_charge_date is given. ${codes}`,
        headers: idempotencyHeader,
        body: onetimeCreateSchema,
        response: { 201: onetimeSchema, ...writeProblems },
      },
    },
    async (request, reply) => {
      const created = await onetimes.create(actionContext(request), request.body)
      privateResponse(reply).code(201)
      return publicOnetime(created)
    },
  )

  routes.patch(
    '/onetimes/:id',
    {
      preHandler: app.requireShopper,
      config: writeConfig,
      schema: {
        ...shopperDocs,
        summary: 'Change the quantity or delivery date of a one-time item',
        description: codes,
        params: idParamsSchema,
        headers: idempotencyHeader,
        body: onetimePatchSchema,
        response: { 200: onetimeSchema, ...writeProblems },
      },
    },
    async (request, reply) => {
      const updated = await onetimes.update(actionContext(request), request.params.id, request.body)
      privateResponse(reply)
      return publicOnetime(updated)
    },
  )

  routes.delete(
    '/onetimes/:id',
    {
      preHandler: app.requireShopper,
      config: writeConfig,
      schema: {
        ...shopperDocs,
        summary: 'Remove a one-time item from its delivery',
        description: codes,
        params: idParamsSchema,
        headers: idempotencyHeader,
        response: { 204: z.null().describe('Removed'), ...writeProblems },
      },
    },
    async (request, reply) => {
      await onetimes.remove(actionContext(request), request.params.id)
      privateResponse(reply).code(204)
      return null
    },
  )
}
