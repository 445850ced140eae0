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
 * Security headers on every response, and CORS as an allow-list of storefront origins: never `*`, and credentials
 * are bearer tokens in headers, never cookies.
 */
export default fp<SecurityOptions>(
  async function security(app, options) {
    const headers = securityHeaders(options.publicUrl)
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(headers)
      done()
    })
    const allowed = new Set(options.corsOrigins)
    await app.register(cors, {
      origin: (origin, callback) => callback(null, origin === undefined ? false : allowed.has(origin)),
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: [
        'authorization',
        'content-type',
        'idempotency-key',
        'x-request-id',
        'if-none-match',
        'x-checkout-secret',
      ],
      exposedHeaders: ['x-request-id', 'x-cache', 'retry-after', 'etag', 'idempotent-replayed'],
      maxAge: 600,
    })
  },
  { name: 'security' },
)
