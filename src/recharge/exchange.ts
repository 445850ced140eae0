import type { IncomingHttpHeaders } from 'node:http'
import type { Dispatcher } from 'undici'

/** The exchange's deadline passed before the whole answer arrived. */
export class ExchangeDeadlineError extends Error {
  override readonly name = 'ExchangeDeadlineError'
}

/** The answer's body grew past the exchange's byte limit. */
export class ExchangeTooLargeError extends Error {
  override readonly name = 'ExchangeTooLargeError'
}

export interface ExchangeAnswer {
  status: number
  headers: IncomingHttpHeaders
  /** The whole body, decoded as UTF-8. */
  text: string
}

export interface ExchangeLimits {
  /** Abort after this long (rejecting with ExchangeDeadlineError). */
  deadlineMs: number
  /** The caller's own cancellation: aborts the exchange with the signal's reason. */
  signal?: AbortSignal | undefined
  /** Abort once the body exceeds this many bytes (rejecting with ExchangeTooLargeError). */
  maxBytes: number
}

/**
 * One HTTP exchange through an undici dispatcher, the body collected as text. It drives `dispatch` with a handler
 * instead of `request()`: an answer of a few kilobytes needs no Readable stream, async iterator, AbortController or
 * AsyncResource around it, and on the uncached route those were a tenth of the bridge's CPU per call.
 *
 * Settles exactly once: with the answer, with the dispatcher's error (connection, headers/body timeouts, size cap),
 * with ExchangeDeadlineError, or with the caller's abort reason.
 */
export function exchange(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  limits: ExchangeLimits,
): Promise<ExchangeAnswer> {
  return new Promise<ExchangeAnswer>((resolve, reject) => {
    const { signal, maxBytes } = limits
    let controller: Dispatcher.DispatchController | undefined
    /** An abort that came before the dispatcher handed over its controller. */
    let pendingAbort: Error | undefined
    let settled = false
    let status = 0
    let headers: IncomingHttpHeaders = {}
    const chunks: Buffer[] = []
    let size = 0

    const settle = (error: Error | undefined, answer?: ExchangeAnswer) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onCallerAbort)
      if (error !== undefined) reject(error)
      else resolve(answer as ExchangeAnswer)
    }
    const abort = (reason: Error) => {
      if (settled) return
      // Settled first: whatever the dispatcher reports for the abort it is told of, this reason is the answer.
      settle(reason)
      if (controller === undefined) pendingAbort = reason
      else controller.abort(reason)
    }
    const onCallerAbort = () => abort(toError(signal?.reason))
    // Fired after a stall, the deadline first lets the poll phase deliver an answer that already arrived (deadline.ts).
    const timer = setTimeout(
      () => setImmediate(() => abort(new ExchangeDeadlineError('the exchange passed its deadline'))),
      limits.deadlineMs,
    )
    if (signal?.aborted) {
      onCallerAbort()
      return
    }
    signal?.addEventListener('abort', onCallerAbort, { once: true })

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(requestController) {
        controller = requestController
        if (pendingAbort !== undefined) requestController.abort(pendingAbort)
      },
      onResponseStart(_controller, statusCode, responseHeaders) {
        // 1xx answers are informational: the real one follows.
        if (statusCode < 200) return
        status = statusCode
        headers = responseHeaders
      },
      onResponseData(_controller, chunk) {
        size += chunk.length
        if (size > maxBytes) abort(new ExchangeTooLargeError(`the body exceeded ${maxBytes} bytes`))
        else chunks.push(chunk)
      },
      onResponseEnd() {
        const text =
          chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8')
        settle(undefined, { status, headers, text })
      },
      onResponseError(_controller, error) {
        settle(error)
      },
    }
    try {
      dispatcher.dispatch(options, handler)
    } catch (error) {
      settle(toError(error))
    }
  })
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value ?? 'aborted'))
}
