import type { preHandlerAsyncHookHandler, preHandlerHookHandler } from 'fastify'

/**
 * Identity contract. The auth plugin (src/plugins/auth.ts) decorates:
 *  - `app.requireShopper`: preHandler; on success sets `request.shopper`, otherwise 401 problem+json.
 *  - `app.requireAdmin`: preHandler; checks `Authorization: Bearer <ADMIN_API_KEY>` in constant time.
 * Every id a shopper sends is checked against `request.shopper.customerId` before any upstream call.
 */
export interface Shopper {
  /** Recharge customer id (string form). */
  customerId: string
  email: string
  externalCustomerId: string | null
}

/**
 * Idempotency contract. A route opts in with `config: { idempotency: 'optional' | 'required' }`. The idempotency
 * plugin then: stores the first response for (principal, method, route, key) and replays it for the same key and
 * same body; answers 409 IDEMPOTENCY_KEY_IN_USE while the first is in flight; 422 IDEMPOTENCY_KEY_REUSED for a
 * different body; 428 IDEMPOTENCY_KEY_REQUIRED when 'required' and the header is missing; 503
 * IDEMPOTENCY_STORE_UNAVAILABLE when the store cannot be asked (nothing is sent); 409 IDEMPOTENCY_KEY_UNSETTLED when
 * the key's write was sent but its answer was never stored. The route must call `beforeIdempotentWrite(request)`
 * (plugins/idempotency.ts) right before its upstream write: a key whose write was recorded as sent is never re-run.
 *
 * The principal (whose keys these are) is `request.idempotencyPrincipal` when a route's earlier preHandler sets it
 * (e.g. the checkout a storefront client is bound to), else the shopper's customer id, else the client IP. The
 * plugin's own preHandler runs after the route's preHandlers, so `requireShopper` has already run.
 */
export type IdempotencyMode = 'optional' | 'required'

declare module 'fastify' {
  interface FastifyContextConfig {
    idempotency?: IdempotencyMode
  }
  interface FastifyRequest {
    /** Set by `app.requireShopper`; null on routes without it. */
    shopper: Shopper | null
    /** Set by a route (in a preHandler) to scope Idempotency-Keys when there is no shopper. */
    idempotencyPrincipal: string | null
  }
  interface FastifyInstance {
    requireShopper: preHandlerHookHandler
    requireAdmin: preHandlerAsyncHookHandler
  }
}

/** Test and embedding knobs of the shopper API (`buildApp(config, { shopper: {...} })`). */
export interface ShopperTuning {
  /** Prefix of the shopper cache names and Redis keys, so parallel test files sharing one Redis never collide. */
  namespace?: string
  /** Writes one shopper may make per minute (default 30). */
  writesPerMinute?: number
  /** Age a cached list must reach before an unknown id re-reads it (default 2 s; tests use 0 for the worst case). */
  rereadAfterMs?: number
}

declare module '../app.ts' {
  interface AppDeps {
    shopper?: ShopperTuning
  }
}
