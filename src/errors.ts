/**
 * The error catalogue. Every error a client can see has a stable `code`, an HTTP status and a title; the code is the
 * contract (storefronts switch on it), the title and detail are for people. Rendered as RFC 9457
 * application/problem+json by plugins/error-handler.ts. Never put an upstream body or a stack in `detail`.
 */
export const errorCatalogue = {
  BAD_REQUEST: { status: 400, title: 'The request is malformed' },
  VALIDATION_FAILED: { status: 400, title: 'The request did not pass validation' },
  UNAUTHENTICATED: { status: 401, title: 'A valid bearer token is required' },
  FORBIDDEN: { status: 403, title: 'This credential may not do that' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  ROUTE_NOT_FOUND: { status: 404, title: 'No such route' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  IDEMPOTENCY_KEY_IN_USE: { status: 409, title: 'A request with this Idempotency-Key is still in progress' },
  IDEMPOTENCY_KEY_UNSETTLED: {
    status: 409,
    title: 'The write with this Idempotency-Key was sent, but its answer was not recorded',
  },
  CONFLICT: { status: 409, title: 'The resource is being changed by another request' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  URI_TOO_LONG: { status: 414, title: 'The request URL is too long' },
  HEADERS_TOO_LARGE: { status: 431, title: 'The request headers are too large' },
  REQUEST_TIMEOUT: { status: 408, title: 'The request was not received in time' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported content type' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'This Idempotency-Key was used with a different request' },
  IDEMPOTENCY_KEY_REQUIRED: { status: 428, title: 'This route requires an Idempotency-Key header' },
  ACTION_NOT_ALLOWED: { status: 403, title: 'This action is not allowed by the store' },
  CUSTOMER_NOT_FOUND: { status: 404, title: 'The token is valid but Recharge has no customer for it' },
  PORTAL_LINK_INVALID: { status: 410, title: 'This portal link has expired or was already used' },
  PORTAL_UNAVAILABLE: { status: 503, title: 'The hosted customer portal is not configured' },
  UNPROCESSABLE: { status: 422, title: 'The request cannot be processed' },
  UPSTREAM_REJECTED: { status: 422, title: 'Recharge rejected the request' },
  // One-time add-ons and the delivery schedule (src/shopper/onetimes.ts, charges.ts, delivery-schedule.ts).
  PRODUCT_NOT_OFFERED: { status: 422, title: 'This product is not sold as a one-time item' },
  ADDRESS_NOT_ACTIVE: { status: 422, title: 'This address has no active subscription' },
  DATE_NOT_ALLOWED: { status: 422, title: 'This date is outside what the store allows' },
  NO_UPCOMING_DELIVERY: { status: 422, title: 'There is no upcoming delivery to add this to' },
  NOT_IN_SCHEDULE: { status: 422, title: 'There is no delivery on this date' },
  CHARGE_NOT_SKIPPABLE: { status: 422, title: 'This delivery cannot be skipped or restored now' },
  NOT_ON_DELIVERY: { status: 422, title: 'A subscription named is not on this delivery' },
  EMAIL_IN_USE: { status: 422, title: 'Another customer already uses this email address' },
  CHECKOUT_IN_PROGRESS: { status: 409, title: 'This checkout is being charged by another request' },
  CHECKOUT_ALREADY_PROCESSED: { status: 422, title: 'This checkout has already been processed' },
  CARD_DECLINED: { status: 402, title: 'The payment was declined' },
  SCA_REQUIRED: { status: 402, title: 'The payment needs customer authentication' },
  CHECKOUT_NOT_CHARGED: { status: 503, title: 'The charge did not go through; it is safe to try again' },
  CHECKOUT_OUTCOME_UNKNOWN: { status: 502, title: 'Whether the charge went through is not known yet' },
  DISCOUNT_NOT_FOUND: { status: 422, title: 'No such discount code' },
  DISCOUNT_EXPIRED: { status: 422, title: 'This discount code has expired' },
  DISCOUNT_NOT_APPLICABLE: { status: 422, title: 'This discount code does not apply here' },
  DISCOUNT_ALREADY_APPLIED: { status: 422, title: 'A discount is already applied' },
  CHARGE_NOT_QUEUED: { status: 422, title: 'This delivery is not queued' },
  ORDER_NOW_IN_PROGRESS: { status: 409, title: 'This delivery is being ordered by another request' },
  // Sign in with Shopify (src/identity/shopify, src/routes/auth-shopify.ts, src/routes/app-proxy.ts).
  SHOPIFY_CREDENTIAL_REFUSED: { status: 401, title: 'Shopify does not vouch for this credential; sign in again' },
  SHOPIFY_METHOD_NOT_ENABLED: { status: 422, title: 'This Shopify sign-in method is not configured on the bridge' },
  RECHARGE_CUSTOMER_NOT_FOUND: {
    status: 404,
    title: 'This Shopify customer has no Recharge customer (no subscriptions yet)',
  },
  SHOPIFY_UNAVAILABLE: { status: 503, title: 'Shopify did not answer in time; retry shortly' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  UPSTREAM_BUSY: { status: 503, title: 'Recharge is at its rate limit; retry shortly' },
  UPSTREAM_UNAVAILABLE: { status: 502, title: 'Recharge did not answer correctly' },
  UPSTREAM_TIMEOUT: { status: 504, title: 'Recharge did not answer in time' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'The service is unavailable' },
  IDEMPOTENCY_STORE_UNAVAILABLE: { status: 503, title: 'Writes with an Idempotency-Key are paused; retry shortly' },
  INTERNAL: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>

export type ErrorCode = keyof typeof errorCatalogue

export interface FieldError {
  /** Dotted path into the request part, prefixed by that part: `body.lines.0.quantity`, `query.limit`. */
  readonly field: string
  readonly message: string
}

export interface ProblemOptions {
  detail?: string
  errors?: readonly FieldError[]
  /** Seconds; rendered as an integer Retry-After header. */
  retryAfter?: number
  /** Extra, client-safe members of the problem document (e.g. the offending cart line). */
  extensions?: Record<string, unknown>
  cause?: unknown
}

export class AppError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly title: string
  readonly detail: string | undefined
  readonly errors: readonly FieldError[] | undefined
  readonly retryAfter: number | undefined
  readonly extensions: Record<string, unknown> | undefined

  constructor(code: ErrorCode, options: ProblemOptions = {}) {
    const entry = errorCatalogue[code]
    super(options.detail ?? entry.title, { cause: options.cause })
    this.name = 'AppError'
    this.code = code
    this.status = entry.status
    this.title = entry.title
    this.detail = options.detail
    this.errors = options.errors
    this.retryAfter = options.retryAfter
    this.extensions = options.extensions
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError
}

export interface ProblemDocument {
  type: string
  title: string
  status: number
  detail?: string
  code: ErrorCode
  requestId: string
  errors?: readonly FieldError[]
  [extension: string]: unknown
}

/** The `type` URI of a code: stable, documented in the README's error table. */
export function problemType(code: ErrorCode): string {
  return `https://recharge-bridge.dev/problems/${code.toLowerCase().replaceAll('_', '-')}`
}

export function toProblem(error: AppError, requestId: string): ProblemDocument {
  return {
    ...error.extensions,
    type: problemType(error.code),
    title: error.title,
    status: error.status,
    ...(error.detail ? { detail: error.detail } : {}),
    code: error.code,
    requestId,
    ...(error.errors ? { errors: error.errors } : {}),
  }
}
