import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod'
import { AppError, type FieldError, isAppError, toProblem } from '../errors.ts'
import { isOutcomeUnknown } from '../recharge/errors.ts'

/**
 * One renderer for every error: RFC 9457 problem+json with a stable code and the request id. Whatever reaches here
 * that is not an AppError is mapped by what Fastify says about it (its own 4xx codes) or becomes a bare 500: no
 * message, stack or upstream body of an unknown error is ever echoed.
 */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: AppError): FastifyReply {
  if (error.retryAfter !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfter))))
  return reply
    .code(error.status)
    .type('application/problem+json; charset=utf-8')
    .serializer(JSON.stringify)
    .send(toProblem(error, request.id))
}

const fastifyCodeMap: Record<string, AppError['code']> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_VALIDATION: 'VALIDATION_FAILED',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
  FST_ERR_MAX_PARAM_LENGTH: 'URI_TOO_LONG',
  FST_ERR_ASYNC_CONSTRAINT: 'BAD_REQUEST',
  FST_ERR_RATE_LIMIT: 'RATE_LIMITED',
}

function fieldErrors(error: FastifyError): FieldError[] {
  const part = error.validationContext ?? 'request'
  return (error.validation ?? []).map((issue) => {
    const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.')
    return { field: path ? `${part}.${path}` : part, message: issue.message ?? 'is invalid' }
  })
}

/** Errors of other layers (Recharge client, cache, queue) say which AppError they are by implementing this. */
export interface ConvertibleToAppError {
  toAppError(): AppError
}

function isConvertible(error: unknown): error is ConvertibleToAppError {
  return typeof (error as Partial<ConvertibleToAppError> | null)?.toAppError === 'function'
}

export function toAppError(error: unknown): AppError {
  if (isAppError(error)) return error
  if (isConvertible(error)) return error.toAppError()
  const fastifyError = error as FastifyError
  if (hasZodFastifySchemaValidationErrors(error) || fastifyError?.validation) {
    const errors = fieldErrors(fastifyError)
    return new AppError('VALIDATION_FAILED', {
      detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '),
      errors,
    })
  }
  const mapped = fastifyError?.code ? fastifyCodeMap[fastifyError.code] : undefined
  if (mapped) {
    // Fastify's own messages for these codes describe the request, never internals.
    return new AppError(mapped, { detail: fastifyError.message })
  }
  if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return new AppError('BAD_REQUEST', { detail: fastifyError.message })
  }
  return new AppError('INTERNAL', { cause: error })
}

declare module 'fastify' {
  interface FastifyRequest {
    /** A write this request sent may or may not have been applied upstream (see RechargeError.outcomeUnknown). */
    upstreamOutcomeUnknown: boolean
  }
}

/** Tell the client plainly that a retry may repeat a change, and how to find out. */
function withUnknownOutcome(error: AppError): AppError {
  return new AppError(error.code, {
    detail:
      'Recharge may or may not have applied this change. Read the resource to see its state before trying again; ' +
      'a retry with the same Idempotency-Key returns this answer again.',
    extensions: { ...error.extensions, outcome: 'unknown' },
    cause: error,
    ...(error.retryAfter !== undefined ? { retryAfter: error.retryAfter } : {}),
  })
}

export default fp(
  async function errorHandler(app) {
    app.decorateRequest('upstreamOutcomeUnknown', false)
    app.setErrorHandler((error, request, reply) => {
      let appError = toAppError(error)
      if (isOutcomeUnknown(error)) {
        request.upstreamOutcomeUnknown = true
        appError = withUnknownOutcome(appError)
      }
      if (appError.status >= 500) {
        const level = isResponseSerializationError(error) ? 'error' : appError.code === 'INTERNAL' ? 'error' : 'warn'
        request.log[level]({ err: error, code: appError.code }, 'request failed')
      } else {
        request.log.info({ code: appError.code, status: appError.status }, appError.title)
      }
      return sendProblem(request, reply, appError)
    })
    app.setNotFoundHandler((request, reply) => {
      return sendProblem(
        request,
        reply,
        new AppError('ROUTE_NOT_FOUND', { detail: `${request.method} ${request.url.split('?')[0]} is not a route` }),
      )
    })
  },
  { name: 'error-handler' },
)
