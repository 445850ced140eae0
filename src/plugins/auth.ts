import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler, preHandlerHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { AppError } from '../errors.ts'
import {
  CustomerTokenError,
  createCustomerTokenVerifier,
  secretKey,
  type TokenRejection,
  type VerifiedCustomerToken,
} from '../identity/customer-token.ts'
import type { CustomerIdentity, IdentityResolver } from '../identity/resolver.ts'
import type { Shopper } from '../identity/shopper.ts'
import type {} from './shopper.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** Maps a verified token subject to a Recharge customer (the cached lookup of ShopperRecords; replaceable). */
    shopperIdentity: { resolve: IdentityResolver | null }
    /** preHandler; on success sets `request.shopper`, otherwise 401 problem+json. */
    requireShopper: preHandlerHookHandler
    /** preHandler; checks `Authorization: Bearer <ADMIN_API_KEY>` in constant time. */
    requireAdmin: preHandlerAsyncHookHandler
  }
  interface FastifyRequest {
    /** Set by `app.requireShopper`; null on routes without it. */
    shopper: Shopper | null
  }
}

/**
 * Shopper and admin authentication.
 *
 * `requireShopper` verifies `Authorization: Bearer <customer token>` (HS256 only, `exp` required, ≤ 1 h), then maps
 * its subject to the Recharge customer through the cached lookup. Every failure of the token itself is a 401 with a
 * `WWW-Authenticate` challenge; a valid token whose subject Recharge does not know is a 404 CUSTOMER_NOT_FOUND (the
 * shopper is who they say, they just have no subscriptions yet: a storefront shows "no subscriptions" instead of
 * sending them to log in again).
 *
 * `requireAdmin` compares `Authorization: Bearer <ADMIN_API_KEY>` in constant time.
 */
const rejectionDetail: Record<TokenRejection, string> = {
  malformed: 'The customer token is not a well-formed JWT.',
  signature: 'The customer token is not signed by this store.',
  expired: 'The customer token has expired; ask the storefront for a new one.',
  claims: 'The customer token has an invalid claim.',
  lifetime: 'The customer token lives longer than the 1 hour allowed.',
  subject: 'The customer token does not name a customer (sub must be an email or an external customer id).',
}

function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization
  if (typeof header !== 'string') return null
  const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header)
  return match?.[1] ?? null
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

function shopperOf(identity: CustomerIdentity): Shopper {
  return { customerId: identity.customerId, email: identity.email, externalCustomerId: identity.externalCustomerId }
}

function unauthenticated(reply: FastifyReply, detail: string, invalidToken: boolean): AppError {
  reply.header(
    'www-authenticate',
    invalidToken ? 'Bearer realm="recharge-bridge", error="invalid_token"' : 'Bearer realm="recharge-bridge"',
  )
  return new AppError('UNAUTHENTICATED', { detail })
}

export default fp(
  async function authPlugin(app) {
    const verifyToken = createCustomerTokenVerifier(secretKey(app.config.CUSTOMER_TOKEN_SECRET))
    const adminKeyDigest = digest(app.config.ADMIN_API_KEY)
    const failures = app.metrics.counter(
      'recharge_bridge_auth_failures_total',
      'Refused shopper and admin credentials',
      ['kind', 'reason'],
    )

    app.decorateRequest('shopper', null)
    const services = app.shopperServices
    const cachedResolve: IdentityResolver = (subject) => services.records.identity(subject)
    app.decorate('shopperIdentity', { resolve: cachedResolve })

    /** The whole check, for a token or an identity not already known to this replica. */
    async function authenticate(request: FastifyRequest, reply: FastifyReply, token: string | null): Promise<Shopper> {
      if (!token) {
        failures.inc({ kind: 'shopper', reason: 'missing' })
        throw unauthenticated(reply, 'Send the customer token as Authorization: Bearer <token>.', false)
      }
      let subject: VerifiedCustomerToken['subject']
      try {
        ;({ subject } = await verifyToken(token))
      } catch (error) {
        if (!(error instanceof CustomerTokenError)) throw error
        failures.inc({ kind: 'shopper', reason: error.reason })
        request.log.debug({ reason: error.reason }, 'customer token refused')
        throw unauthenticated(reply, rejectionDetail[error.reason], true)
      }
      const resolve = app.shopperIdentity.resolve
      if (!resolve) throw new AppError('SERVICE_UNAVAILABLE', { detail: 'Customer lookup is not available' })
      const identity = await resolve(subject)
      if (!identity) {
        failures.inc({ kind: 'shopper', reason: 'unknown_customer' })
        throw new AppError('CUSTOMER_NOT_FOUND', {
          detail: 'Recharge has no customer for this token yet; they appear after their first subscription.',
        })
      }
      return shopperOf(identity)
    }

    /**
     * A shopper's page sends the same token on every call: when both its verification and its customer are already
     * known here, the hook finishes synchronously (no promise, no turn of the event loop); anything else takes
     * `authenticate`. The shortcut reads the default cached lookup only, never a replaced `shopperIdentity.resolve`.
     */
    app.decorate('requireShopper', function requireShopper(request, reply, done) {
      // Already proven by the scope's own check (the app-proxy signature, src/routes/app-proxy.ts): no bearer token.
      if (request.shopper !== null) {
        done()
        return
      }
      const token = bearerToken(request)
      const subject = token === null ? undefined : verifyToken.known(token)?.subject
      const identity =
        subject !== undefined && app.shopperIdentity.resolve === cachedResolve
          ? services.records.knownIdentity(subject)
          : undefined
      if (identity !== undefined) {
        request.shopper = shopperOf(identity)
        done()
        return
      }
      authenticate(request, reply, token).then((shopper) => {
        request.shopper = shopper
        done()
      }, done)
    } satisfies preHandlerHookHandler)

    app.decorate('requireAdmin', async function requireAdmin(request: FastifyRequest, reply: FastifyReply) {
      const token = bearerToken(request)
      // Compare digests: equal length always, so timingSafeEqual never throws and timing says nothing about length.
      if (!token || !timingSafeEqual(digest(token), adminKeyDigest)) {
        failures.inc({ kind: 'admin', reason: token ? 'mismatch' : 'missing' })
        throw unauthenticated(reply, 'Send the admin key as Authorization: Bearer <ADMIN_API_KEY>.', Boolean(token))
      }
    })
  },
  { name: 'auth', dependencies: ['metrics', 'shopper'] },
)
