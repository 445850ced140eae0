import { setTimeout as sleep } from 'node:timers/promises'
import type { Dispatcher } from 'undici'
import type { ZodType } from 'zod'
import { MAX_RESPONSE_BYTES } from './dispatcher.ts'
import { errorFromResponse, parseLimitHeader, parseRetryAfter } from './error-normaliser.ts'
import {
  RechargeAbortedError,
  RechargeBadResponseError,
  type RechargeError,
  RechargeTimeoutError,
  RechargeUnavailableError,
} from './errors.ts'
import { ExchangeDeadlineError, ExchangeTooLargeError, exchange } from './exchange.ts'
import {
  noopLog,
  noopMetrics,
  type RechargeLog,
  type RechargeMetrics,
  type RechargeTracer,
  type TraceSpan,
} from './observability.ts'
import type { UnusableRow } from './pagination.ts'
import type { JobOutcome, RechargeQueue } from './queue/queue.ts'
import { compiled } from './schemas/compiled.ts'
import type { CallOptions, Lane, QueryValue, RechargeTransport, UpstreamRequest } from './types.ts'

/**
 * `send()`: the one place that talks HTTP to Recharge. It books a slot in the queue, sends through the dispatcher
 * (which adds the credentials), reads the body with a size cap, maps non-2xx answers through the error normaliser and
 * parses 2xx bodies with the request's lenient schema.
 *
 * Retries (each one books a new slot, all inside the call's deadline):
 * - GET: 5xx, connection errors, truncated or malformed bodies, with jittered exponential backoff.
 * - every method: a connection refused (or connect timeout) before any byte was sent, and 429 (handled by the queue).
 * - writes are otherwise never retried: a write that met a 5xx or a reset may have been processed.
 */

export const DEFAULT_DEADLINE_MS: Record<Lane, number> = { interactive: 3_000, background: 60_000 }
const MAX_ATTEMPTS = 4
const NOT_BLANK = /\S/
/** Longest wait for response headers, and between body chunks, whatever the deadline. */
const UPSTREAM_TIMEOUT_MS = 20_000

export interface TransportOptions {
  dispatcher: Dispatcher
  baseUrl: string
  queue: RechargeQueue
  log?: RechargeLog
  metrics?: RechargeMetrics
  tracer?: RechargeTracer | undefined
}

/** A raw upstream answer (after the queue, before parsing). */
interface RawAnswer {
  status: number
  text: string
  upstreamRequestId: string | undefined
  retryAfterSeconds: number | undefined
}

/**
 * `/subscriptions/123/cancel` → `/subscriptions/:id/cancel` (label-safe: ids and checkout tokens removed). Runs on
 * every upstream call, hence a scan rather than split/map/join: a segment with a digit or over 40 characters is an id.
 */
export function pathTemplate(path: string): string {
  const query = path.indexOf('?')
  const end = query === -1 ? path.length : query
  let template = ''
  let start = 0
  while (start < end) {
    let stop = path.indexOf('/', start + 1)
    if (stop === -1 || stop > end) stop = end
    // [start, stop) is a slash (except at a relative path's start) and the segment after it.
    const from = path.charCodeAt(start) === 47 ? start + 1 : start
    let isId = stop - from > 40
    for (let i = from; !isId && i < stop; i++) {
      const code = path.charCodeAt(i)
      isId = code >= 48 && code <= 57
    }
    template += isId ? `${path.slice(start, from)}:id` : path.slice(start, stop)
    start = stop
  }
  return template
}

export function encodeQuery(query: Record<string, QueryValue> | undefined): string {
  if (!query) return ''
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue
    // Recharge takes lists as one comma-separated value (`ids=1,2,3`, `include=customer,metafields`).
    params.set(key, Array.isArray(value) ? value.join(',') : String(value))
  }
  const text = params.toString()
  return text ? `?${text}` : ''
}

interface AttemptContext {
  deadlineAt: number
  signal: AbortSignal | undefined
  template: string
  /** `METHOD /path/template`, the label of logs, metrics and errors. */
  operation: string
  attempt: number
  requestId: string | undefined
  span: TraceSpan | undefined
}

function attemptLogFields(method: string, context: AttemptContext, status: number | string, started: number) {
  return {
    upstream: { method, pathTemplate: context.template, status, ms: Date.now() - started, attempt: context.attempt },
    ...(context.requestId ? { reqId: context.requestId } : {}),
  }
}

/** Errors that prove nothing reached Recharge: safe to resend any method. */
function refusedBeforeSending(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code
  return code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ENOTFOUND' || code === 'EAI_AGAIN'
}

class TransientFailure extends Error {
  readonly error: RechargeError
  /** A GET may retry it; a write only when nothing was sent. */
  readonly safeForWrites: boolean
  constructor(error: RechargeError, safeForWrites: boolean) {
    super(error.message)
    this.error = error
    this.safeForWrites = safeForWrites
  }
}

/** A sent write that ended without a definite answer: Recharge may or may not have applied it. */
function markUncertainWrite(error: unknown): unknown {
  if (
    error instanceof RechargeTimeoutError ||
    error instanceof RechargeUnavailableError ||
    error instanceof RechargeBadResponseError
  ) {
    error.outcomeUnknown = true
  }
  return error
}

function backoffMs(attempt: number): number {
  const base = Math.min(2_000, 100 * 2 ** (attempt - 1))
  return base / 2 + Math.random() * (base / 2)
}

export class Transport implements RechargeTransport {
  private readonly dispatcher: Dispatcher
  private readonly origin: string
  private readonly basePath: string
  private readonly queue: RechargeQueue
  private readonly log: RechargeLog
  private readonly metrics: RechargeMetrics
  private readonly tracer: RechargeTracer | undefined

  constructor(options: TransportOptions) {
    const url = new URL(options.baseUrl)
    this.dispatcher = options.dispatcher
    this.origin = url.origin
    this.basePath = url.pathname.replace(/\/$/, '')
    this.queue = options.queue
    this.log = options.log ?? noopLog
    this.metrics = options.metrics ?? noopMetrics
    this.tracer = options.tracer
  }

  async send<T>(request: UpstreamRequest<T>, options: CallOptions = {}): Promise<T> {
    const lane = options.lane ?? 'interactive'
    const deadlineAt = Date.now() + (options.deadlineMs ?? DEFAULT_DEADLINE_MS[lane])
    const template = pathTemplate(request.path)
    const operation = `${request.method} ${template}`
    const isRead = request.method === 'GET'
    for (let attempt = 1; ; attempt++) {
      const waiting = this.tracer?.queueWait(operation, lane, options.requestId)
      try {
        const answer = await this.queue.run(
          {
            lane,
            deadlineAt,
            signal: options.signal,
            addressId: !isRead && options.addressId !== undefined ? String(options.addressId) : undefined,
            operation,
          },
          () => {
            waiting?.end()
            return this.attempt(request, {
              deadlineAt,
              signal: options.signal,
              template,
              operation,
              attempt,
              requestId: options.requestId,
              span: this.tracer?.upstreamCall(operation, attempt, options.requestId),
            })
          },
        )
        return this.parse(request.schema, answer, operation, isRead)
      } catch (error) {
        waiting?.end()
        if (!(error instanceof TransientFailure)) throw isRead ? error : markUncertainWrite(error)
        const retryable = isRead || error.safeForWrites
        const pause = backoffMs(attempt)
        if (!retryable || attempt >= MAX_ATTEMPTS || Date.now() + pause >= deadlineAt) {
          throw isRead || error.safeForWrites ? error.error : markUncertainWrite(error.error)
        }
        await sleep(pause, undefined, options.signal ? { signal: options.signal } : undefined).catch(() => {
          throw new RechargeAbortedError('Cancelled while waiting to retry', { operation })
        })
      }
    }
  }

  private parse<T>(schema: ZodType<T>, answer: RawAnswer, operation: string, isRead: boolean): T {
    let body: unknown = null
    if (NOT_BLANK.test(answer.text)) {
      try {
        body = JSON.parse(answer.text)
      } catch {
        const error = new RechargeBadResponseError(`Recharge sent a body that is not JSON (${operation})`, {
          status: answer.status,
          upstreamRequestId: answer.upstreamRequestId,
          operation,
        })
        // Truncated/garbled JSON is a known intermittent Recharge failure; a read may try again.
        if (isRead) throw new TransientFailure(error, false)
        throw error
      }
    }
    const parsed = compiled(schema).safeParse(body)
    if (!parsed.success) {
      // Paths and issue codes only: never the values (customer data).
      const issues = parsed.error.issues.slice(0, 10).map((issue) => ({ path: issue.path.join('.'), code: issue.code }))
      this.log.error(
        { upstream: { operation, status: answer.status }, issues },
        'Recharge body did not match its schema',
      )
      throw new RechargeBadResponseError(`Recharge sent an unexpected body shape (${operation})`, {
        status: answer.status,
        upstreamRequestId: answer.upstreamRequestId,
        operation,
        cause: parsed.error,
      })
    }
    reportUnusableRows(parsed.data, operation, this.log, this.metrics)
    return parsed.data
  }

  /** One HTTP exchange inside a booked slot. */
  private async attempt<T>(request: UpstreamRequest<T>, context: AttemptContext): Promise<JobOutcome<RawAnswer>> {
    const { method } = request
    const { operation } = context
    const started = Date.now()
    const remaining = Math.max(1, context.deadlineAt - started)
    let status: number
    let headers: Record<string, string | string[] | undefined>
    let text: string
    try {
      const answer = await exchange(
        this.dispatcher,
        {
          origin: this.origin,
          path: `${this.basePath}${request.path}${encodeQuery(request.query)}`,
          method,
          headers: request.body === undefined ? {} : { 'content-type': 'application/json' },
          body: request.body === undefined ? null : JSON.stringify(request.body),
          // The call's deadline, but never longer than the pool's own limits (a 60 s background deadline is no reason
          // to wait 60 s on a silent upstream).
          headersTimeout: Math.min(remaining, UPSTREAM_TIMEOUT_MS),
          bodyTimeout: Math.min(remaining, UPSTREAM_TIMEOUT_MS),
        },
        // The cap holds also when an injected dispatcher has none of its own.
        { deadlineMs: remaining, signal: context.signal, maxBytes: MAX_RESPONSE_BYTES },
      )
      status = answer.status
      headers = answer.headers
      text = answer.text
    } catch (error) {
      const failure = this.classify(error, operation, context.signal)
      this.metrics.upstreamResponse(operation, 'error')
      context.span?.end('error')
      this.log.warn(
        { ...attemptLogFields(method, context, 'error', started), err: { code: (error as { code?: string }).code } },
        'Recharge call failed',
      )
      throw failure
    }
    this.metrics.upstreamResponse(operation, String(status))
    context.span?.end(status)
    const single = (name: string) => {
      const value = headers[name]
      return Array.isArray(value) ? value[0] : value
    }
    const limit = parseLimitHeader(single('x-recharge-limit'))
    if (limit) {
      try {
        const reconciling = this.queue.observeLimit(limit.used, limit.size)
        if (reconciling) await reconciling
      } catch {
        // The report never fails the call it came with: the answer, perhaps an applied write, is already here.
      }
    }
    const answer: RawAnswer = {
      status,
      text,
      upstreamRequestId: single('x-request-id'),
      retryAfterSeconds: parseRetryAfter(single('retry-after')),
    }
    if (status === 429) {
      this.log.warn(attemptLogFields(method, context, status, started), 'Recharge call rate limited')
      return { kind: 'rate-limited', retryAfterMs: (answer.retryAfterSeconds ?? 2) * 1000 }
    }
    if (status >= 200 && status < 300) {
      // Built only when it will be written: this runs on every upstream call.
      if (this.log.isLevelEnabled?.('debug') !== false)
        this.log.debug(attemptLogFields(method, context, status, started), 'Recharge call')
      return { kind: 'done', value: answer }
    }
    const error = errorFromResponse({ ...answer, operation })
    this.log[status >= 500 ? 'warn' : 'info'](
      attemptLogFields(method, context, status, started),
      'Recharge call answered with an error',
    )
    if (status >= 500) throw new TransientFailure(error, false)
    throw error
  }

  private classify(error: unknown, operation: string, callerSignal: AbortSignal | undefined): unknown {
    if (error instanceof TransientFailure || error instanceof RechargeBadResponseError) return error
    if (callerSignal?.aborted) return new RechargeAbortedError('Cancelled while Recharge was answering', { operation })
    if (error instanceof ExchangeTooLargeError) {
      return new RechargeBadResponseError(`Recharge sent a body over the size limit (${operation})`, { operation })
    }
    const code = (error as { code?: string } | null)?.code
    if (
      error instanceof ExchangeDeadlineError ||
      code === 'UND_ERR_HEADERS_TIMEOUT' ||
      code === 'UND_ERR_BODY_TIMEOUT'
    ) {
      return new RechargeTimeoutError(`Recharge did not answer in time (${operation})`, { operation })
    }
    if (refusedBeforeSending(error)) {
      return new TransientFailure(
        new RechargeUnavailableError(`Recharge refused the connection (${operation})`, { operation }),
        true,
      )
    }
    if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
      return new RechargeBadResponseError(`Recharge sent a body over the size limit (${operation})`, { operation })
    }
    // Reset, closed mid-body, truncated content-length: the request may have been processed.
    return new TransientFailure(
      new RechargeUnavailableError(`Recharge connection failed (${operation})`, { operation }),
      false,
    )
  }
}

/** A page that left rows out (`pageSchema(..., {unusableRows: 'skip'})`) is served, and the rows it left are told. */
function reportUnusableRows(data: unknown, operation: string, log: RechargeLog, metrics: RechargeMetrics): void {
  const unusable = (data as { unusable?: UnusableRow[] } | null)?.unusable
  if (!unusable || unusable.length === 0) return
  metrics.unusableRows(operation, unusable.length)
  log.warn(
    { upstream: { operation }, unusable },
    'Recharge rows left out of a page: a field the bridge reads could not be used',
  )
}
