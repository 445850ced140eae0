import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { addressCreateSchema } from '../shopper/account-schemas.ts'
import {
  actionContext,
  idempotencyHeader,
  privateResponse,
  problems,
  shopperDocs,
  shopperOf,
  writeProblems,
} from '../shopper/http.ts'
import { publicAddress } from '../shopper/mappers.ts'
import { addressPatchSchema, addressSchema, idParamsSchema } from '../shopper/schemas.ts'

/**
 * The shopper's shipping addresses; PATCH changes one of their own (policy action update_address), POST adds one
 * (create_address).
 */
export default async function addressRoutes(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  const { records, addresses } = app.shopperServices

  routes.get(
    '/addresses',
    {
      preHandler: app.requireShopper,
      schema: {
        ...shopperDocs,
        summary: 'Shipping addresses',
        response: { 200: z.object({ addresses: z.array(addressSchema) }), ...problems },
      },
    },
    async (request, reply) => {
      const addresses = await records.addresses(shopperOf(request).customerId)
      privateResponse(reply, addresses.state)
      return { addresses: addresses.rows.map(publicAddress) }
    },
  )

  routes.get(
    '/addresses/:id',
    {
      preHandler: app.requireShopper,
      schema: {
        ...shopperDocs,
        summary: 'One shipping address',
        params: idParamsSchema,
        response: { 200: addressSchema, ...problems },
      },
    },
    async (request, reply) => {
      const address = await records.ownAddress(shopperOf(request).customerId, request.params.id)
      privateResponse(reply)
      return publicAddress(address)
    },
  )

  routes.patch(
    '/addresses/:id',
    {
      preHandler: app.requireShopper,
      config: { idempotency: 'optional' },
      schema: {
        ...shopperDocs,
        summary: 'Change a shipping address',
        params: idParamsSchema,
        headers: idempotencyHeader,
        body: addressPatchSchema,
        response: { 200: addressSchema, ...writeProblems },
      },
    },
    async (request, reply) => {
      const { zip, ...rest } = request.body
      // Recharge takes zip as a string; clearing it is not a shipping address.
      const patch = { ...rest, ...(zip ? { zip } : {}) }
      const updated = await addresses.update(actionContext(request), request.params.id, patch)
      privateResponse(reply)
      return publicAddress(updated)
    },
  )
  routes.post(
    '/addresses',
    {
      preHandler: app.requireShopper,
      config: { idempotency: 'optional' },
      schema: {
        ...shopperDocs,
        summary: 'Add a shipping address',
        description:
          'Policy create_address (the hosted portal calls it "prevent address creation"). The new address is paid ' +
          'by the default payment method. Send an Idempotency-Key: a retried create without one can add two.',
        headers: idempotencyHeader,
        body: addressCreateSchema,
        response: { 201: addressSchema, ...writeProblems },
      },
    },
    async (request, reply) => {
      const created = await addresses.create(actionContext(request), request.body)
      privateResponse(reply).code(201)
      return publicAddress(created)
    },
  )
}
