import type { FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { beforeIdempotentWrite } from '../idempotency/dispatch.ts'
import type { Shopper } from '../identity/shopper.ts'
import type { ActionContext } from './pipeline.ts'
import { problemSchema } from './schemas.ts'

/** Shared bits of the shopper routes: OpenAPI tags/security, error docs, headers, the action context. */

export const shopperDocs = { tags: ['shopper'], security: [{ customerToken: [] }] }
export const adminDocs = { tags: ['admin'], security: [{ adminKey: [] }] }

export const problems = {
  401: problemSchema.describe('Missing, expired or invalid customer token (code UNAUTHENTICATED)'),
  404: problemSchema.describe('Not one of this shopper’s records, or no Recharge customer for the token'),
}

export const writeProblems = {
  ...problems,
  403: problemSchema.describe('The store policy does not allow this action (code ACTION_NOT_ALLOWED)'),
  409: problemSchema.describe(
    'Same Idempotency-Key still in flight or sent with its answer unrecorded (IDEMPOTENCY_KEY_UNSETTLED), or the address is being changed',
  ),
  422: problemSchema.describe('Not possible in the current state, outside the policy bounds, or key reused'),
}

export const idempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .optional()
    .describe('Makes a retried write safe: the same key and body replay the first response for 24 h'),
})

export function shopperOf(request: FastifyRequest): Shopper {
  if (!request.shopper) throw new Error('route registered without requireShopper')
  return request.shopper
}

export function actionContext(request: FastifyRequest): ActionContext {
  return { shopper: shopperOf(request), requestId: request.id, beforeWrite: () => beforeIdempotentWrite(request) }
}

/** Personal data behind a bearer token: never stored by browsers or shared caches. */
export function privateResponse(reply: FastifyReply, cacheState?: string): FastifyReply {
  reply.header('cache-control', 'private, no-store')
  if (cacheState) reply.header('x-cache', cacheState)
  return reply
}
