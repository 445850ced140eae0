import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AppError } from '../errors.ts'
import {
  type CustomerSubject,
  MAX_TOKEN_LIFETIME_S,
  mintCustomerToken,
  parseSubject,
  secretKey,
} from '../identity/customer-token.ts'
import { adminDocs, problems } from '../shopper/http.ts'
import { publicCustomer } from '../shopper/mappers.ts'
import { customerSchema } from '../shopper/schemas.ts'

/**
 * Merchant-backend routes for the shopper API (ADMIN_API_KEY): customer lookup and customer-token minting. Other
 * capabilities register their own admin paths in their route modules.
 */
const subjectBody = z.union([
  z
    .object({ email: z.email().max(255), expires_in: z.number().int().min(60).max(MAX_TOKEN_LIFETIME_S).optional() })
    .strict(),
  z
    .object({
      external_customer_id: z.string().trim().min(1).max(255),
      expires_in: z.number().int().min(60).max(MAX_TOKEN_LIFETIME_S).optional(),
    })
    .strict(),
])

export default async function adminRoutes(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  const key = secretKey(app.config.CUSTOMER_TOKEN_SECRET)
  const { records, upstream } = app.shopperServices

  routes.get(
    '/admin/customers',
    {
      preHandler: app.requireAdmin,
      schema: {
        ...adminDocs,
        summary: 'Find Recharge customers by email or external customer id',
        querystring: z
          .object({
            email: z.email().max(255).optional(),
            external_customer_id: z.string().min(1).max(255).optional(),
          })
          .strict()
          .refine((query) => Boolean(query.email) !== Boolean(query.external_customer_id), {
            message: 'send exactly one of email or external_customer_id',
          }),
        response: { 200: z.object({ customers: z.array(customerSchema) }), 401: problems[401] },
      },
    },
    async (request, reply) => {
      const { email, external_customer_id } = request.query
      reply.header('cache-control', 'no-store')
      // The mirror first (MIRROR=on and ready): a lookup that costs Recharge nothing. Not there: Recharge decides.
      const mirror = app.mirror
      const mirroredId = await mirror?.customerIdFor(
        email ? { email } : { externalCustomerId: external_customer_id as string },
      )
      const mirrored = mirroredId ? await mirror?.account(mirroredId) : null
      if (mirrored) return { customers: [publicCustomer(mirrored.customer)] }
      const page = await upstream().customers.list(
        email ? { email: email.toLowerCase() } : { external_customer_id: external_customer_id as string },
        { limit: 10 },
        { requestId: request.id },
      )
      return { customers: page.items.map(publicCustomer) }
    },
  )

  routes.post(
    '/admin/customer-tokens',
    {
      preHandler: app.requireAdmin,
      schema: {
        ...adminDocs,
        summary: 'Mint a customer token for a shopper your backend has signed in',
        description:
          'Answers a short-lived HS256 JWT (default 15 min, at most 1 h) for the shopper routes. 404 ' +
          'CUSTOMER_NOT_FOUND when Recharge has no customer with that email or external id.',
        body: subjectBody,
        response: {
          201: z.object({ token: z.string(), expires_at: z.string().describe('ISO 8601') }),
          401: problems[401],
          404: problems[404],
        },
      },
    },
    async (request, reply) => {
      const body = request.body
      let subject: CustomerSubject
      try {
        subject = parseSubject('email' in body ? body.email : body.external_customer_id)
      } catch {
        throw new AppError('VALIDATION_FAILED', { detail: 'The customer reference is not usable.' })
      }
      // Also warms the identity cache the shopper's first request will use.
      const identity = await records.identity(subject)
      if (!identity) {
        throw new AppError('CUSTOMER_NOT_FOUND', { detail: 'Recharge has no customer with this reference.' })
      }
      const minted = await mintCustomerToken(subject, key, body.expires_in ? { lifetimeS: body.expires_in } : {})
      reply.code(201).header('cache-control', 'no-store')
      return { token: minted.token, expires_at: minted.expiresAt.toISOString() }
    },
  )
}
