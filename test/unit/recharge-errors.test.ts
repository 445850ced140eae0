import { describe, expect, it } from 'vitest'
import {
  errorFromResponse,
  parseErrorBody,
  parseLimitHeader,
  parseRetryAfter,
} from '../../src/recharge/error-normaliser.ts'
import {
  RechargeBadResponseError,
  RechargeConflictError,
  RechargeNotFoundError,
  RechargeRateLimitedError,
  RechargeTimeoutError,
  RechargeUnavailableError,
  RechargeValidationError,
} from '../../src/recharge/errors.ts'

describe('Recharge error bodies', () => {
  it.each([
    ['bare string', '{"errors": "Not Found"}', 'Not Found', []],
    [
      'field → string[]',
      '{"errors": {"first_name": ["Shorter than minimum length 1."], "last_name": ["Too short"]}}',
      'first_name: Shorter than minimum length 1.; last_name: Too short',
      [
        { field: 'first_name', message: 'Shorter than minimum length 1.' },
        { field: 'last_name', message: 'Too short' },
      ],
    ],
    [
      'field → string',
      '{"errors": {"email": "email already exists"}}',
      'email: email already exists',
      [{ field: 'email', message: 'email already exists' }],
    ],
    [
      'nested map',
      '{"errors": {"billing_address": {"address1": ["Field may not be null."]}}}',
      'billing_address.address1: Field may not be null.',
      [{ field: 'billing_address.address1', message: 'Field may not be null.' }],
    ],
    [
      '_schema',
      '{"errors": {"_schema": ["city is required"]}}',
      'request: city is required',
      [{ field: 'request', message: 'city is required' }],
    ],
    [
      'singular error',
      '{"error": "A call to this route is already in progress."}',
      'A call to this route is already in progress.',
      [],
    ],
    ['legacy warning', '{"warning": "too many requests"}', 'too many requests', []],
    ['non-JSON', '<html><body>502 Bad Gateway</body></html>', undefined, []],
    ['truncated JSON', '{"errors": {"email": ["bad', undefined, []],
    ['empty', '', undefined, []],
  ])('%s', (_name, text, message, fieldErrors) => {
    expect(parseErrorBody(text)).toEqual({ message, fieldErrors })
  })

  it('maps statuses to typed errors carrying status and the upstream request id', () => {
    const cases: [number, new (...args: never[]) => Error][] = [
      [400, RechargeValidationError],
      [402, RechargeValidationError],
      [404, RechargeNotFoundError],
      [409, RechargeConflictError],
      [422, RechargeValidationError],
      [429, RechargeRateLimitedError],
      [401, RechargeUnavailableError],
      [426, RechargeUnavailableError],
      [500, RechargeUnavailableError],
      [503, RechargeUnavailableError],
      [504, RechargeTimeoutError],
    ]
    for (const [status, type] of cases) {
      const error = errorFromResponse({
        status,
        text: '{"errors": "x"}',
        upstreamRequestId: 'req-1',
        operation: 'GET /store',
      })
      expect(error, String(status)).toBeInstanceOf(type)
      expect(error.status).toBe(status)
      expect(error.upstreamRequestId).toBe('req-1')
    }
  })

  it('renders each error through the public catalogue, never with the raw body', () => {
    const raw = '{"errors": {"date": ["date is not far enough in the future"]}, "secret_internal": "do-not-echo"}'
    const validation = errorFromResponse({ status: 422, text: raw, upstreamRequestId: 'abc' }).toAppError()
    expect(validation).toMatchObject({
      status: 422,
      code: 'UPSTREAM_REJECTED',
      extensions: { upstreamRequestId: 'abc' },
    })
    expect(validation.errors).toEqual([{ field: 'upstream.date', message: 'date is not far enough in the future' }])
    expect(JSON.stringify({ ...validation, detail: validation.detail })).not.toContain('do-not-echo')

    const declined = errorFromResponse({ status: 422, text: '{"errors": "Your card was declined."}' })
    expect(declined.upstreamMessage).toBe('Your card was declined.')
    expect(declined.toAppError().detail).toBeUndefined()

    expect(errorFromResponse({ status: 404, text: '' }).toAppError()).toMatchObject({ status: 404, code: 'NOT_FOUND' })
    expect(errorFromResponse({ status: 409, text: '' }).toAppError()).toMatchObject({ status: 409, code: 'CONFLICT' })
    expect(errorFromResponse({ status: 500, text: 'oops' }).toAppError()).toMatchObject({
      status: 502,
      code: 'UPSTREAM_UNAVAILABLE',
    })
    expect(errorFromResponse({ status: 504, text: '' }).toAppError()).toMatchObject({
      status: 504,
      code: 'UPSTREAM_TIMEOUT',
    })
    expect(new RechargeBadResponseError('x').toAppError()).toMatchObject({ status: 502, code: 'UPSTREAM_UNAVAILABLE' })
    const busy = new RechargeRateLimitedError('x', { reason: 'admission', retryAfterSeconds: 2.2 }).toAppError()
    expect(busy).toMatchObject({ status: 503, code: 'UPSTREAM_BUSY', retryAfter: 3 })
  })

  it('reads Retry-After and X-Recharge-Limit', () => {
    expect(parseRetryAfter('2')).toBe(2)
    expect(parseRetryAfter(new Date(Date.now() + 3_000).toUTCString())).toBeGreaterThan(1)
    expect(parseRetryAfter('soon')).toBeUndefined()
    expect(parseLimitHeader('39/40')).toEqual({ used: 39, size: 40 })
    expect(parseLimitHeader(' 3 / 80 ')).toEqual({ used: 3, size: 80 })
    expect(parseLimitHeader('full')).toBeUndefined()
  })
})
