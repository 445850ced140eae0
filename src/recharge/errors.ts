import { AppError, type FieldError } from '../errors.ts'

/**
 * Typed errors of the Recharge layer. Each carries the upstream status and `X-Request-Id` (for support tickets with
 * Recharge) and maps itself onto the public error catalogue through `toAppError()`. The upstream message is kept on
 * the object (`upstreamMessage`, `fieldErrors`) so feature code can tell e.g. a card decline from a missing field,
 * but it is never rendered verbatim: the problem document only lists field names and their short messages.
 */

export interface RechargeErrorInit {
  /** HTTP status Recharge answered with, when it answered. */
  status?: number | undefined
  /** Recharge's `X-Request-Id`, when it answered. */
  upstreamRequestId?: string | undefined
  /** `METHOD /path/template` of the operation (never ids). */
  operation?: string | undefined
  /** The message Recharge gave (joined), for feature code and logs; never rendered to shoppers. */
  upstreamMessage?: string | undefined
  /** Field-level messages Recharge gave (`errors` maps), flattened to dotted paths. */
  fieldErrors?: readonly FieldError[] | undefined
  cause?: unknown
}

/** A write that was sent but whose answer was lost (see RechargeError.outcomeUnknown). */
export function isOutcomeUnknown(error: unknown): boolean {
  return (error as { outcomeUnknown?: unknown } | null)?.outcomeUnknown === true
}

export abstract class RechargeError extends Error {
  readonly status: number | undefined
  readonly upstreamRequestId: string | undefined
  readonly operation: string | undefined
  readonly upstreamMessage: string | undefined
  readonly fieldErrors: readonly FieldError[]
  /**
   * A write whose outcome we cannot know: it was sent, but the answer was lost, late, unreadable or a 5xx. Recharge
   * may have applied it. Callers must not assume either way (the idempotency store keeps this answer for the key).
   */
  outcomeUnknown = false

  constructor(message: string, init: RechargeErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause })
    this.name = new.target.name
    this.status = init.status
    this.upstreamRequestId = init.upstreamRequestId
    this.operation = init.operation
    this.upstreamMessage = init.upstreamMessage
    this.fieldErrors = init.fieldErrors ?? []
  }

  /** What the shopper or merchant sees (the error handler renders it as problem+json). */
  abstract toAppError(): AppError

  protected upstreamExtensions(): Record<string, unknown> | undefined {
    return this.upstreamRequestId ? { upstreamRequestId: this.upstreamRequestId } : undefined
  }
}

/** Recharge answered 404: the record does not exist (or is not visible to this token). */
export class RechargeNotFoundError extends RechargeError {
  toAppError(): AppError {
    return new AppError('NOT_FOUND', { cause: this })
  }
}

/**
 * Recharge refused the data (400, 402, 422): a field is invalid, a date is in the past, a card was declined. The
 * problem document lists the field names and short messages (`upstream.<field>`), never the raw body.
 */
export class RechargeValidationError extends RechargeError {
  toAppError(): AppError {
    const errors = this.fieldErrors.map((error) => ({ field: `upstream.${error.field}`, message: error.message }))
    const extensions = this.upstreamExtensions()
    return new AppError('UPSTREAM_REJECTED', {
      ...(errors.length > 0 ? { errors, detail: errors.map((e) => `${e.field}: ${e.message}`).join('; ') } : {}),
      ...(extensions ? { extensions } : {}),
      cause: this,
    })
  }
}

/** Recharge answered 409: another request is editing the same address (or one of its children) right now. */
export class RechargeConflictError extends RechargeError {
  toAppError(): AppError {
    return new AppError('CONFLICT', { cause: this })
  }
}

/**
 * The token's budget cannot serve this call in time: either the queue refused it at admission (its slot would be
 * after its deadline) or Recharge kept answering 429 until the deadline. `retryAfterSeconds` is when a retry has a
 * fair chance.
 */
export class RechargeRateLimitedError extends RechargeError {
  readonly retryAfterSeconds: number
  readonly reason: 'admission' | 'upstream'

  constructor(
    message: string,
    init: RechargeErrorInit & { retryAfterSeconds: number; reason: 'admission' | 'upstream' },
  ) {
    super(message, init)
    this.retryAfterSeconds = Math.max(1, Math.ceil(init.retryAfterSeconds))
    this.reason = init.reason
  }

  toAppError(): AppError {
    return new AppError('UPSTREAM_BUSY', { retryAfter: this.retryAfterSeconds, cause: this })
  }
}

/**
 * An anonymous call refused by the budget before it was booked (src/recharge/budget): nothing was sent. The client's
 * own allowance answers 429 (it is that client's doing); the public share answers 503 UPSTREAM_BUSY like a full
 * bucket (other clients spent it).
 */
export class PublicBudgetError extends RechargeRateLimitedError {
  readonly by: 'client' | 'public-share'

  constructor(
    message: string,
    init: RechargeErrorInit & { retryAfterSeconds: number; reason: 'admission'; by: 'client' | 'public-share' },
  ) {
    super(message, init)
    this.by = init.by
  }

  override toAppError(): AppError {
    if (this.by === 'public-share') return super.toAppError()
    return new AppError('RATE_LIMITED', {
      detail: 'Too many catalog or checkout requests that reach Recharge from this client; retry later.',
      retryAfter: this.retryAfterSeconds,
      cause: this,
    })
  }
}

/** Recharge failed (5xx, connection refused/reset, auth or version misconfiguration on our side). */
export class RechargeUnavailableError extends RechargeError {
  toAppError(): AppError {
    const extensions = this.upstreamExtensions()
    return new AppError('UPSTREAM_UNAVAILABLE', { ...(extensions ? { extensions } : {}), cause: this })
  }
}

/** Recharge did not answer within the call's deadline (or undici's connect/headers/body timeouts). */
export class RechargeTimeoutError extends RechargeError {
  toAppError(): AppError {
    return new AppError('UPSTREAM_TIMEOUT', { cause: this })
  }
}

/** Recharge answered 2xx with a body we cannot use: not JSON, truncated, too large, or not the expected shape. */
export class RechargeBadResponseError extends RechargeError {
  toAppError(): AppError {
    const extensions = this.upstreamExtensions()
    return new AppError('UPSTREAM_UNAVAILABLE', { ...(extensions ? { extensions } : {}), cause: this })
  }
}

/** The caller aborted (its shopper went away) before the call was answered; nothing was sent if before its slot. */
export class RechargeAbortedError extends RechargeError {
  toAppError(): AppError {
    return new AppError('SERVICE_UNAVAILABLE', { detail: 'The request was cancelled', cause: this })
  }
}

export function isRechargeError(error: unknown): error is RechargeError {
  return error instanceof RechargeError
}
