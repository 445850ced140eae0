import cors from '@fastify/cors'
import helmet from '@fastify/helmet'
import fp from 'fastify-plugin'

export interface SecurityOptions {
  corsOrigins: readonly string[]
  /** The bridge's public URL: served over plain http (a LAN demo), browsers must not be told to upgrade requests. */
  publicUrl: string
}

/**
 * Helmet's defaults plus a CSP the docs and demo pages can live with (their scripts and styles are same-origin;
 * Swagger UI needs inline styles). CORS is an allow-list of storefront origins: never `*`, and credentials are bearer
 * tokens in headers, never cookies.
 */
export default fp<SecurityOptions>(
  async function security(app, options) {
    await app.register(helmet, {
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          frameAncestors: ["'none'"],
          upgradeInsecureRequests: options.publicUrl.startsWith('https:') ? [] : null,
        },
      },
      crossOriginResourcePolicy: { policy: 'same-site' },
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
