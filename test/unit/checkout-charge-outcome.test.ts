import { describe, expect, it } from 'vitest'
import { classifyChargeFailure, declineCodeOf } from '../../src/checkout/charge-outcome.ts'
import type { AppError } from '../../src/errors.ts'
import { errorFromResponse } from '../../src/recharge/error-normaliser.ts'
import {
  RechargeBadResponseError,
  RechargeRateLimitedError,
  RechargeTimeoutError,
  RechargeUnavailableError,
} from '../../src/recharge/errors.ts'

/** The upstream answer as Recharge sends it, through the client's own normaliser. */
function upstream(status: number, body: unknown) {
  return errorFromResponse({ status, text: JSON.stringify(body), operation: 'POST /checkouts/{token}/charge' })
}

function finalCode(error: unknown): string {
  const failure = classifyChargeFailure(error)
  if (failure.kind !== 'final') throw new Error(`expected a final outcome, got ${failure.reason}`)
  return failure.error.code
}

describe('charge failure mapping', () => {
  it.each([
    [409, { error: 'A call to this route is already in progress.' }, 'CHECKOUT_IN_PROGRESS'],
    [422, { errors: 'Checkout has already been processed.' }, 'CHECKOUT_ALREADY_PROCESSED'],
    [422, { error: 'You cannot use a Stripe token more than once: tok_123.' }, 'CHECKOUT_ALREADY_PROCESSED'],
    [422, { errors: 'Your card was declined. decline_code = generic_decline' }, 'CARD_DECLINED'],
    [402, { errors: 'Request failed' }, 'CARD_DECLINED'],
    [422, { errors: { payment: ['Your card has insufficient funds.'] } }, 'CARD_DECLINED'],
    [422, { errors: 'This transaction requires authentication.' }, 'SCA_REQUIRED'],
    [422, { errors: { email: ['Not a valid email address.'] } }, 'UPSTREAM_REJECTED'],
    [404, { errors: 'Not Found' }, 'NOT_FOUND'],
  ])('%i %j → %s', (status, body, code) => {
    expect(finalCode(upstream(status, body))).toBe(code)
  })

  it('gives each storefront-actionable code a detail it can show, never the processor text', () => {
    const failure = classifyChargeFailure(
      upstream(422, { errors: 'Your card was declined. decline_code = do_not_honor' }),
    )
    expect(failure.kind).toBe('final')
    const error = (failure as { error: AppError }).error
    expect(error.status).toBe(402)
    expect(error.detail).toMatch(/another payment method/)
    expect(error.detail).not.toMatch(/decline_code/)
    expect(error.extensions).toEqual({ decline_code: 'do_not_honor' })
  })

  it('treats a lost connection, a timeout, a 5xx and an unreadable 2xx as uncertain', () => {
    for (const error of [
      new RechargeTimeoutError('timed out'),
      new RechargeUnavailableError('socket hang up'),
      upstream(500, { errors: 'Internal error' }),
      upstream(503, 'third-party timeout'),
      new RechargeBadResponseError('truncated'),
      new Error('something of ours'),
    ]) {
      expect(classifyChargeFailure(error).kind).toBe('uncertain')
    }
  })

  it('treats a 429 or an admission refusal as not processed (final, retryable)', () => {
    const refused = new RechargeRateLimitedError('busy', { retryAfterSeconds: 3, reason: 'admission' })
    expect(finalCode(refused)).toBe('UPSTREAM_BUSY')
  })

  it('reads decline codes in the shapes processors write them', () => {
    expect(declineCodeOf('Your card was declined. decline_code = generic_decline')).toBe('generic_decline')
    expect(declineCodeOf('decline_code: insufficient_funds')).toBe('insufficient_funds')
    expect(declineCodeOf('Your card was declined.')).toBeUndefined()
  })
})
