import type { ErrorCode, FieldError } from '../errors.ts'

/**
 * What a shopper should read for each stable error code. Storefronts switch on `code`, never on `title` or `detail`
 * (those are for developers). Keyed by the server's catalogue; a unit test fails when a catalogue code has no sentence
 * here (a code without one falls back to its title).
 */
export const shopperMessages: Readonly<Partial<Record<ErrorCode, string>>> = {
  BAD_REQUEST: 'Something in that request was not right. Please try again.',
  VALIDATION_FAILED: 'Please check the highlighted details and try again.',
  UNAUTHENTICATED: 'Your session has ended. Please sign in again.',
  FORBIDDEN: 'You are not allowed to do that.',
  NOT_FOUND: 'We could not find that. It may have been removed.',
  ROUTE_NOT_FOUND: 'This feature is not available.',
  METHOD_NOT_ALLOWED: 'This feature is not available.',
  IDEMPOTENCY_KEY_IN_USE: 'We are still working on your previous request. One moment, please.',
  IDEMPOTENCY_KEY_UNSETTLED: 'We could not confirm your last change. Please refresh to see whether it was saved.',
  CONFLICT: 'This subscription is being updated by another request. Please try again in a moment.',
  PAYLOAD_TOO_LARGE: 'That request was too large.',
  URI_TOO_LONG: 'That link is not valid.',
  HEADERS_TOO_LARGE: "That request was too large. Clearing this site's cookies may help.",
  REQUEST_TIMEOUT: 'The connection was too slow. Please try again.',
  UNSUPPORTED_MEDIA_TYPE: 'That request was not understood.',
  IDEMPOTENCY_KEY_REUSED: 'That request changed while it was being sent. Please start again.',
  IDEMPOTENCY_KEY_REQUIRED: 'That request could not be sent safely. Please try again.',
  CUSTOMER_NOT_FOUND: 'We could not find a subscription account for you.',
  PORTAL_LINK_INVALID: 'This link has expired. Please go back to your account and open it again.',
  PORTAL_UNAVAILABLE: 'Subscription management is not available right now. Please try again later.',
  ACTION_NOT_ALLOWED: 'This action is not allowed by the store.',
  UNPROCESSABLE: 'That change cannot be made.',
  UPSTREAM_REJECTED: 'That change was not accepted. Please check the details and try again.',
  PRODUCT_NOT_OFFERED: 'This product cannot be added to a delivery.',
  ADDRESS_NOT_ACTIVE: 'Items can only be added to an address with an active subscription.',
  DATE_NOT_ALLOWED: 'Please choose another date.',
  NO_UPCOMING_DELIVERY: 'There is no upcoming delivery to add this to.',
  NOT_IN_SCHEDULE: 'There is no delivery on that date.',
  CHARGE_NOT_SKIPPABLE: 'This delivery cannot be changed now. Please refresh and try again.',
  NOT_ON_DELIVERY: 'That subscription is not part of this delivery.',
  EMAIL_IN_USE: 'Another account already uses this email address.',
  CHECKOUT_IN_PROGRESS: 'Your payment is already being processed.',
  CHECKOUT_ALREADY_PROCESSED: 'This order has already been placed.',
  CHECKOUT_NOT_CHARGED: 'Your payment did not go through and you were not charged. Please try again.',
  CARD_DECLINED: 'Your card was declined. Please use another card.',
  SCA_REQUIRED: 'Your bank needs you to confirm this payment.',
  CHECKOUT_OUTCOME_UNKNOWN: 'We are confirming your payment. Please wait a moment before trying again.',
  DISCOUNT_NOT_FOUND: 'We do not know that discount code. Please check it and try again.',
  DISCOUNT_EXPIRED: 'That discount code has expired.',
  DISCOUNT_NOT_APPLICABLE: 'That discount code cannot be used for this order.',
  DISCOUNT_ALREADY_APPLIED: 'A discount is already applied. Remove it first to use another code.',
  CHARGE_NOT_QUEUED: 'This delivery can no longer be changed.',
  ORDER_NOW_IN_PROGRESS: 'Your order is already being placed.',
  RATE_LIMITED: 'Too many attempts. Please wait a moment and try again.',
  SHOPIFY_CREDENTIAL_REFUSED: 'Your sign-in has expired. Please sign in again.',
  SHOPIFY_METHOD_NOT_ENABLED: 'Signing in this way is not available in this store.',
  RECHARGE_CUSTOMER_NOT_FOUND: 'You have no subscriptions yet.',
  SHOPIFY_UNAVAILABLE: 'We could not confirm your sign-in just now. Please try again in a few seconds.',
  UPSTREAM_BUSY: 'The store is busy right now. Please try again in a few seconds.',
  UPSTREAM_UNAVAILABLE: 'The subscription service is not responding. Please try again shortly.',
  UPSTREAM_TIMEOUT: 'The subscription service is taking too long. Please try again shortly.',
  SERVICE_UNAVAILABLE: 'The store is temporarily unavailable. Please try again shortly.',
  IDEMPOTENCY_STORE_UNAVAILABLE: 'The store is temporarily unavailable. Nothing was changed; please try again shortly.',
  INTERNAL: 'Something went wrong on our side. Please try again.',
}

/** The problem+json document every error response carries (RFC 9457 plus a stable `code` and the request id). */
export interface Problem {
  type: string
  title: string
  status: number
  detail?: string
  code: string
  requestId?: string
  errors?: readonly FieldError[]
  [extension: string]: unknown
}

export function isProblem(value: unknown): value is Problem {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { status?: unknown }).status === 'number'
  )
}

const fallback = 'Something went wrong on our side. Please try again.'

/** A sentence for a person, from whatever an error response (or a failed fetch) produced. */
export function shopperMessage(error: unknown): string {
  if (isProblem(error)) {
    const known = (shopperMessages as Record<string, string | undefined>)[error.code]
    if (known) return known
    if (error.status >= 500) return fallback
    return error.title
  }
  if (error instanceof TypeError) return 'We could not reach the store. Check your connection and try again.'
  return fallback
}
