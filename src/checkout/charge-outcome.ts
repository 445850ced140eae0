import { AppError } from '../errors.ts'
import {
  RechargeAbortedError,
  RechargeBadResponseError,
  RechargeConflictError,
  RechargeError,
  RechargeNotFoundError,
  RechargeRateLimitedError,
  RechargeTimeoutError,
  RechargeUnavailableError,
  RechargeValidationError,
} from '../recharge/errors.ts'

/**
 * What a failed `POST /checkouts/{token}/charge` means for the storefront.
 *
 * Recharge's charge is not idempotent and passes the payment processor's words through: a 409 while another charge
 * of the same checkout runs, a 422 "Checkout has already been processed." (or "cannot use a Stripe token more than
 * once") on a replay, a 422/402 "Your card was declined. decline_code = generic_decline" or "This transaction
 * requires authentication." (SCA). Each becomes its own stable code with a detail a storefront can show.
 *
 * Failures after which the charge may or may not have happened (timeout, connection lost, 5xx, an unreadable 2xx)
 * are `uncertain`: the caller must read the checkout back before answering, never guess and never re-send.
 */
export type ChargeFailure = { kind: 'final'; error: AppError } | { kind: 'uncertain'; reason: string }

const alreadyProcessed =
  /already (been )?(processed|completed|charged|paid)|more than once|already been used|has been used|is (completed|processed)/i
const authenticationRequired =
  /authenticat|3-?d ?secure|\bsca\b|requires_action|requires action|action required|requires_source_action/i
const declined =
  /declin|insufficient[_ ]funds|do not honou?r|card (was|has|is) (declined|expired|not supported)|expired[_ ]card|incorrect[_ ](cvc|number|zip)|invalid (card|cvc|expiry)|lost[_ ]card|stolen[_ ]card|card_error|payment (failed|was refused)/i

/** A decline code from the processor's message (`decline_code = generic_decline`), if it names one. */
export function declineCodeOf(message: string | undefined): string | undefined {
  const match = message ? /decline[_ ]code\W{0,4}([a-z_]{3,40})/i.exec(message) : null
  return match?.[1]?.toLowerCase()
}

export function classifyChargeFailure(error: unknown): ChargeFailure {
  if (!(error instanceof RechargeError)) {
    // Not an upstream answer (a bug, a parse failure of ours): we cannot know whether Recharge charged.
    return { kind: 'uncertain', reason: 'unexpected error' }
  }
  if (error instanceof RechargeConflictError) {
    return {
      kind: 'final',
      error: new AppError('CHECKOUT_IN_PROGRESS', {
        detail:
          'Another request is charging this checkout right now. Do not charge again: read the checkout in a moment to see the outcome.',
        retryAfter: 2,
        cause: error,
      }),
    }
  }
  if (error instanceof RechargeValidationError) {
    const message = [error.upstreamMessage ?? '', ...error.fieldErrors.map((field) => field.message)].join(' ')
    if (alreadyProcessed.test(message)) {
      return {
        kind: 'final',
        error: new AppError('CHECKOUT_ALREADY_PROCESSED', {
          detail: 'This checkout has already been paid. Show the order confirmation; do not charge it again.',
          cause: error,
        }),
      }
    }
    if (authenticationRequired.test(message)) {
      return {
        kind: 'final',
        error: new AppError('SCA_REQUIRED', {
          detail:
            "The card issuer requires the shopper to authenticate this payment (3-D Secure). Complete the authentication with the payment processor's SDK, then charge again with the authenticated payment token and a new Idempotency-Key.",
          cause: error,
        }),
      }
    }
    if (declined.test(message) || error.status === 402) {
      const declineCode = declineCodeOf(message)
      return {
        kind: 'final',
        error: new AppError('CARD_DECLINED', {
          detail:
            'The payment was declined by the card issuer. Ask the shopper for another payment method, then charge again with the new payment token and a new Idempotency-Key.',
          ...(declineCode ? { extensions: { decline_code: declineCode } } : {}),
          cause: error,
        }),
      }
    }
    return { kind: 'final', error: error.toAppError() }
  }
  if (error instanceof RechargeNotFoundError) {
    return {
      kind: 'final',
      error: new AppError('NOT_FOUND', { detail: 'No such checkout (it may have expired).', cause: error }),
    }
  }
  if (error instanceof RechargeRateLimitedError) {
    // Refused at admission or answered 429: Recharge did not process it; the caller may retry after Retry-After.
    return { kind: 'final', error: error.toAppError() }
  }
  if (
    error instanceof RechargeTimeoutError ||
    error instanceof RechargeUnavailableError ||
    error instanceof RechargeBadResponseError ||
    error instanceof RechargeAbortedError
  ) {
    return { kind: 'uncertain', reason: error.constructor.name }
  }
  return { kind: 'uncertain', reason: 'unclassified upstream error' }
}

/**
 * A failed update (PUT /checkouts/{token}) of a checkout that is being charged or already paid says so with the same
 * codes as the charge; anything else keeps its generic mapping.
 */
export function updateFailure(error: unknown): unknown {
  if (error instanceof RechargeConflictError) {
    return new AppError('CHECKOUT_IN_PROGRESS', {
      detail: 'This checkout is being charged right now; it can no longer be changed.',
      retryAfter: 2,
      cause: error,
    })
  }
  if (error instanceof RechargeValidationError) {
    const message = [error.upstreamMessage ?? '', ...error.fieldErrors.map((field) => field.message)].join(' ')
    if (alreadyProcessed.test(message)) {
      return new AppError('CHECKOUT_ALREADY_PROCESSED', {
        detail: 'This checkout has already been paid; it can no longer be changed.',
        cause: error,
      })
    }
  }
  return error
}

/** After an uncertain outcome, Recharge shows the checkout as not charged: safe to try again. */
export function notChargedAfterUncertainOutcome(): AppError {
  return new AppError('CHECKOUT_NOT_CHARGED', {
    detail:
      'The connection to Recharge failed during the charge, and Recharge shows this checkout as not charged. It is safe to try again (a checkout can never be charged twice); use a new Idempotency-Key.',
    retryAfter: 2,
  })
}

/** The outcome could not be read back either: the storefront must not ask for payment again yet. */
export function outcomeUnknown(cause: unknown): AppError {
  return new AppError('CHECKOUT_OUTCOME_UNKNOWN', {
    detail:
      'Recharge did not confirm whether the payment went through. Do not ask the shopper to pay again yet: read the checkout (GET /v1/checkouts/{token}) in a few seconds to see whether it was processed.',
    retryAfter: 5,
    cause,
  })
}
