import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyBaseLogger } from 'fastify'
import { CATALOG_CACHE_CONTROL } from '../catalog/document.ts'
import type { CatalogDocuments } from '../catalog/types.ts'
import type { FastRead } from '../fast-reads.ts'
import type { Metrics } from '../infra/metrics/registry.ts'
import { requestIdFrom } from '../logger.ts'
import type { ApiResponsePolicy } from '../plugins/security.ts'

export interface CatalogFastReadOptions {
  /** The route's path up to the id, as Fastify matches it: `/v1/catalog/products/`. */
  pathPrefix: string
  /** The route pattern for metrics labels: `/v1/catalog/products/:externalProductId`. */
  routePattern: string
  catalog: Pick<CatalogDocuments, 'freshProductDocument'>
  policy: ApiResponsePolicy
  metrics: Metrics
  log: FastifyBaseLogger
  /** TRUST_PROXY is set: the client address in request logs comes from X-Forwarded-For, which is Fastify's to read. */
  behindProxy: boolean
}

/** Levels at which Fastify writes a log line per request ("incoming request", "request completed"). */
const LEVELS_LOGGING_REQUESTS = new Set(['info', 'debug', 'trace'])

/**
 * Ids answered here: unreserved URL characters only (so the raw path segment is the id Fastify would decode), at
 * most the router's 200-character parameter limit. Anything else is Fastify's to answer (or to reject).
 */
const PLAIN_ID = /^[A-Za-z0-9._~-]{1,200}$/

/**
 * GET /v1/catalog/products/:externalProductId answered from a fresh L1 entry, with the response the route sends for
 * that hit: the security and CORS headers of every JSON response, the request id, ETag, Cache-Control, X-Cache and
 * Age, the stored body as is, the request-duration and cache-hit metrics, and (at info and below) Fastify's two
 * request log lines. Requests it does not take: conditional ones (If-None-Match: the route answers 304), any with a
 * query string or a body, ids needing percent-decoding, and, while request logs are on behind a trusted proxy, all
 * of them (the logged client address is then Fastify's to work out).
 */
export function catalogProductFastRead(options: CatalogFastReadOptions): FastRead {
  const { pathPrefix, catalog, policy, log, behindProxy } = options
  const duration = options.metrics.requestDuration
  const series = options.metrics.requestSeries('GET', options.routePattern, 200)
  const securityHeaders = Object.entries(policy.securityHeaders).flat()

  return function catalogProduct(request: IncomingMessage, response: ServerResponse): boolean {
    const url = request.url
    if (url === undefined || !url.startsWith(pathPrefix)) return false
    const id = url.slice(pathPrefix.length)
    if (!PLAIN_ID.test(id)) return false
    const headers = request.headers
    if (
      headers['if-none-match'] !== undefined ||
      headers['content-length'] !== undefined ||
      headers['transfer-encoding'] !== undefined
    ) {
      return false
    }
    // Read per request: the level of a running app may be changed.
    const logging = LEVELS_LOGGING_REQUESTS.has(log.level)
    if (logging && behindProxy) return false
    const startedAt = performance.now()
    const document = catalog.freshProductDocument(id)
    if (document === undefined) return false

    const requestId = requestIdFrom(headers['x-request-id'])
    // Fastify's child logger and lines, so the app's serialisers and redaction shape them the same way.
    const requestLog = logging ? log.child({ reqId: requestId }) : undefined
    requestLog?.info(
      { req: { method: 'GET', url, id: requestId, ip: request.socket.remoteAddress } },
      'incoming request',
    )

    const origin = headers.origin
    const cors =
      origin !== undefined && policy.allowsOrigin(origin)
        ? ['access-control-allow-origin', origin, 'access-control-expose-headers', policy.exposedHeaders]
        : []
    response.writeHead(200, [
      'x-request-id',
      requestId,
      ...securityHeaders,
      'vary',
      'Origin',
      ...cors,
      'etag',
      document.etag,
      'cache-control',
      CATALOG_CACHE_CONTROL,
      'x-cache',
      document.state,
      'age',
      String(Math.floor(document.ageMs / 1000)),
      'content-type',
      'application/json; charset=utf-8',
      'content-length',
      String(Buffer.byteLength(document.body)),
    ])
    response.end(document.body)
    // Observed once the body is handed to the socket (Fastify observes at 'finish'; the difference is the flush).
    const elapsedMs = performance.now() - startedAt
    duration.observe(series, elapsedMs / 1000)
    requestLog?.info({ res: { statusCode: 200 }, responseTime: elapsedMs }, 'request completed')
    return true
  }
}
