import { randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'
import type { FastifyServerOptions } from 'fastify'
import type { Config } from './config.ts'

/**
 * Redaction is the second line of defence: the Recharge token lives only in the dispatcher closure and request
 * serialisers never log headers wholesale. These paths catch whatever slips through anyway.
 */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-recharge-access-token"]',
  'req.headers["idempotency-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers["x-recharge-access-token"]',
  'config.RECHARGE_API_TOKEN',
  'token',
  'customerHash',
  'portalUrl',
]

/**
 * Query parameters whose values are credentials (portal redirect tokens; the signature of a Shopify app-proxy request,
 * which replays for minutes): replaced before the URL is logged.
 */
const secretQueryParams = /([?&](?:token|access_token|hash|signature)=)[^&#]*/gi

export function redactUrl(url: string): string {
  return url.replace(secretQueryParams, '$1[redacted]')
}

/**
 * Whether pino-pretty can be loaded from here. It is a dev dependency: a production install (the container image)
 * has no copy, and a terminal (`docker run -it`) must then get plain JSON lines rather than a crash.
 */
export function prettyPrinterInstalled(resolve: (id: string) => string = createRequire(import.meta.url).resolve) {
  try {
    resolve('pino-pretty')
    return true
  } catch {
    return false
  }
}

export function loggerOptions(
  config: Pick<Config, 'LOG_LEVEL'>,
  stream?: NodeJS.WritableStream,
): FastifyServerOptions['logger'] {
  const pretty = !stream && process.stdout.isTTY && config.LOG_LEVEL !== 'silent' && prettyPrinterInstalled()
  return {
    level: config.LOG_LEVEL,
    redact: { paths: redactPaths, censor: '[redacted]' },
    serializers: {
      req(request: { method: string; url: string; id: string; ip?: string }) {
        return { method: request.method, url: redactUrl(request.url), id: request.id, ip: request.ip }
      },
      res(reply: { statusCode: number }) {
        return { statusCode: reply.statusCode }
      },
    },
    ...(stream ? { stream } : {}),
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } }
      : {}),
  } as FastifyServerOptions['logger']
}

const validRequestId = /^[A-Za-z0-9._:-]{8,128}$/

/** Accept a well-formed inbound x-request-id (so a trace spans the storefront and us); mint one otherwise. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && validRequestId.test(header) ? header : randomUUID()
}
