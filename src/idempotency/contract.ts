/**
 * Idempotency contract. A route opts in with `config: { idempotency: 'optional' | 'required' }`. The idempotency
 * plugin (src/plugins/idempotency.ts) then: stores the first response for (principal, method, route, key) and replays
 * it for the same key and same body; answers 409 IDEMPOTENCY_KEY_IN_USE while the first is in flight; 422
 * IDEMPOTENCY_KEY_REUSED for a different body; 428 IDEMPOTENCY_KEY_REQUIRED when 'required' and the header is missing;
 * 503 IDEMPOTENCY_STORE_UNAVAILABLE when the store cannot be asked (nothing is sent); 409 IDEMPOTENCY_KEY_UNSETTLED
 * when the key's write was sent but its answer was never stored. The route must call `beforeIdempotentWrite(request)`
 * (idempotency/dispatch.ts) right before its upstream write: a key whose write was recorded as sent is never re-run.
 *
 * The principal (whose keys these are) is `request.idempotencyPrincipal` when a route's earlier preHandler sets it
 * (e.g. the checkout a storefront client is bound to), else the shopper's customer id, else the client IP. The
 * plugin's own preHandler runs after the route's preHandlers, so `requireShopper` has already run.
 */
export type IdempotencyMode = 'optional' | 'required'
