import { type IncomingMessage, maxHeaderSize, type ServerResponse, STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import { AppError, toProblem } from './errors.ts'
import { requestIdFrom } from './logger.ts'

/**
 * problem+json for the answers Node or Fastify would otherwise write themselves, in their own JSON shape: requests
 * Node's parser refuses before any route runs (Fastify's `clientErrorHandler`) and requests that arrive on an open
 * connection while the server shuts down (instead of Fastify's `return503OnClosing` body).
 */

const CLOSING_RETRY_AFTER_SECONDS = 1

/** Node's clientError: `rawPacket` holds the bytes read so far (typed loosely by Fastify). */
interface ParserError extends Error {
  code?: string
  rawPacket?: unknown
}

function problemBody(error: AppError, requestId: string): string {
  return JSON.stringify(toProblem(error, requestId))
}

/**
 * What a parser error means for the client. Node reports an over-long request line and over-large headers alike as
 * HPE_HEADER_OVERFLOW; the bytes it had read tell them apart: a first line longer than the limit on its own, or no line
 * break at all yet, means the URL itself overflowed.
 */
export function clientErrorProblem(error: ParserError): AppError {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new AppError('REQUEST_TIMEOUT', { detail: 'The request headers did not arrive in time' })
  }
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    const received = error.rawPacket
    const lineEnd = Buffer.isBuffer(received) ? received.indexOf('\n') : 0
    if (lineEnd === -1 || lineEnd > maxHeaderSize) {
      return new AppError('URI_TOO_LONG', { detail: 'The request line is longer than the server accepts' })
    }
    return new AppError('HEADERS_TOO_LARGE', { detail: 'The request headers are larger than the server accepts' })
  }
  if (error.code === 'HPE_URI_TOO_LONG') {
    return new AppError('URI_TOO_LONG', { detail: 'The request line is longer than the server accepts' })
  }
  return new AppError('BAD_REQUEST', { detail: 'The request is not valid HTTP' })
}

/** Fastify's `clientErrorHandler`: one problem+json answer on the raw socket, then the connection is closed. */
export function answerClientError(error: ParserError, socket: Socket): void {
  // A reset connection has nobody to answer (Node's own handler does the same).
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const problem = clientErrorProblem(error)
  const body = problemBody(problem, requestIdFrom(undefined))
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n` +
        'Content-Type: application/problem+json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    )
  }
  socket.destroy(error)
}

/** The answer to a request that reaches a closing server: 503, Retry-After, and the connection closed after it. */
export function answerClosing(request: IncomingMessage, response: ServerResponse): void {
  const body = problemBody(
    new AppError('SERVICE_UNAVAILABLE', { detail: 'This server is shutting down; retry on another one' }),
    requestIdFrom(request.headers['x-request-id']),
  )
  response.writeHead(503, {
    'content-type': 'application/problem+json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'retry-after': String(CLOSING_RETRY_AFTER_SECONDS),
    connection: 'close',
  })
  response.end(body)
}
