import type { IncomingMessage, ServerResponse } from 'node:http'
import cors from '@fastify/cors'
import fp from 'fastify-plugin'
import helmet, { type HelmetOptions } from 'helmet'

export interface SecurityOptions {
  corsOrigins: readonly string[]
  /** The bridge's public URL: served over plain http (a LAN demo), browsers must not be told to upgrade requests. */
  publicUrl: string
}

/**
 * Helmet's defaults plus a CSP the docs and demo pages can live with (their scripts and styles are same-origin;
 * Swagger UI needs inline styles).
 */
function helmetOptions(publicUrl: string): HelmetOptions {
  return {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        upgradeInsecureRequests: publicUrl.startsWith('https:') ? [] : null,
      },
    },
    crossOriginResourcePolicy: { policy: 'same-site' },
    // RFC 6797 §7.2: an HSTS host must not send the header over plain http (browsers ignore it there anyway).
    strictTransportSecurity: publicUrl.startsWith('https:') ? {} : false,
  }
}

/**
 * The headers helmet would set, computed once. With no nonces in our CSP they are the same on every response, so
 * running helmet's middleware per request (measured at about half the throughput of a bare route) buys nothing.
 */
export function securityHeaders(publicUrl: string): Record<string, string> {
  const headers: Record<string, string> = {}
  const response = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value)
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()]
    },
  }
  helmet(helmetOptions(publicUrl))({} as IncomingMessage, response as unknown as ServerResponse, () => {})
  return headers
}

/**
 * JSON responses get the set OWASP's REST Security guidance lists: nothing may render or frame them, no sniffing,
 * HTTPS only, no referrer. Document headers (a page CSP, COOP, origin-agent-cluster…) mean nothing on JSON and cost
 * every client hundreds of bytes per response.
 */
export function apiSecurityHeaders(documentHeaders: Record<string, string>): Record<string, string> {
  return {
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    ...(documentHeaders['strict-transport-security']
      ? { 'strict-transport-security': documentHeaders['strict-transport-security'] }
      : {}),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  }
}

/** Routes that answer JSON only; everything else (demo, docs, the portal hand-off page) may be a document. */
export function isApiPath(url: string): boolean {
  if (url.startsWith('/v1/')) return !url.startsWith('/v1/portal/redirect')
  return /^\/(healthz|readyz|metrics|openapi\.json)(\?|$)/.test(url)
}

/** Response headers a browser may read cross-origin. */
const EXPOSED_HEADERS = ['x-request-id', 'x-cache', 'retry-after', 'etag', 'idempotent-replayed'] as const

/** What every JSON response carries, for code that answers without Fastify's hooks (src/fast-reads.ts). */
export interface ApiResponsePolicy {
  /** The security headers of a JSON response. */
  readonly securityHeaders: Readonly<Record<string, string>>
  /** True when `origin` is an allowed storefront: its simple requests get Access-Control-Allow-Origin. */
  allowsOrigin(origin: string): boolean
  /** Access-Control-Expose-Headers of an allowed origin's response. */
  readonly exposedHeaders: string
}

declare module 'fastify' {
  interface FastifyInstance {
    apiResponsePolicy: ApiResponsePolicy
  }
}

/**
 * Security headers on every response, and CORS as an allow-list of storefront origins: never `*`, and credentials
 * are bearer tokens in headers, never cookies.
 */
export default fp<SecurityOptions>(
  async function security(app, options) {
    const documentHeaders = securityHeaders(options.publicUrl)
    const apiHeaders = apiSecurityHeaders(documentHeaders)
    app.addHook('onRequest', (request, reply, done) => {
      reply.headers(isApiPath(request.url) ? apiHeaders : documentHeaders)
      done()
    })
    const allowed = new Set(options.corsOrigins)
    const policy: ApiResponsePolicy = {
      securityHeaders: apiHeaders,
      allowsOrigin: (origin) => allowed.has(origin),
      exposedHeaders: EXPOSED_HEADERS.join(', '),
    }
    app.decorate('apiResponsePolicy', policy)
    await app.register(cors, {
      origin: (origin, callback) => callback(null, origin === undefined ? false : policy.allowsOrigin(origin)),
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: [
        'authorization',
        'content-type',
        'idempotency-key',
        'x-request-id',
        'if-none-match',
        'x-checkout-secret',
      ],
      exposedHeaders: [...EXPOSED_HEADERS],
      maxAge: 600,
    })
  },
  { name: 'security' },
)
