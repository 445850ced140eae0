import type { FastifyReply, FastifyRequest, onSendHookHandler, preHandlerHookHandler, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { AppError } from '../errors.ts'
import type { IdempotencyMode } from '../idempotency/contract.ts'
import { claims, storeUnavailable } from '../idempotency/dispatch.ts'
import { isValidIdempotencyKey, requestFingerprint, storageKey } from '../idempotency/fingerprint.ts'
import { MemoryIdempotencyStore } from '../idempotency/memory-store.ts'
import { RedisIdempotencyStore } from '../idempotency/redis-store.ts'
import { SharedIdempotencyStore } from '../idempotency/shared-store.ts'
import type { IdempotencyStore, IdempotencyTimings, StoredResponse } from '../idempotency/types.ts'
import { withReplyDeadline } from '../infra/redis.ts'
import type {} from './auth.ts'

/** Replays are served this long after the first response (Stripe keeps keys 24 h too). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000
/**
 * A reservation (nothing sent yet) outlives any request (requestTimeout 30 s), so a crash frees the key on its own;
 * a write dispatched longer ago than this whose answer was never stored is reported as unsettled.
 */
export const RESERVATION_TTL_MS = 60_000
export const IDEMPOTENCY_TIMINGS: IdempotencyTimings = {
  reserveTtlMs: RESERVATION_TTL_MS,
  answerTtlMs: IDEMPOTENCY_TTL_MS,
}
/**
 * The idempotency store's Redis deadline. Longer than the app's default: a keyed write is refused when the store does
 * not answer, and it is about to wait on Recharge for much longer anyway, so a CPU-starved host must not turn a slow
 * reply into a refusal. It also covers a WAIT for replicas (REDIS_IDEMPOTENCY_WAIT_MS is at most 1 s).
 */
const STORE_DEADLINE_MS = 1_500
/** Larger responses are not stored (shopper responses are a few KiB). */
const MAX_STORED_BODY_BYTES = 256 * 1024
/** 4xx that mean "not processed, try again" are not final: the key is released, not stored. */
const TRANSIENT_4XX = new Set([408, 409, 425, 429])
/** Headers a replay must carry to mean the same thing. */
const REPLAYED_HEADERS = ['content-type', 'location', 'cache-control']

export const REPLAYED_HEADER = 'idempotent-replayed'

declare module 'fastify' {
  interface FastifyInstance {
    idempotencyStore: IdempotencyStore
  }
  interface FastifyContextConfig {
    idempotency?: IdempotencyMode
  }
  interface FastifyRequest {
    /** Set by a route (in a preHandler) to scope Idempotency-Keys when there is no shopper. */
    idempotencyPrincipal: string | null
  }
}

export interface IdempotencyPluginOptions {
  /** Key prefix in Redis (tests use their own). */
  keyPrefix?: string
  /** An injected store (tests). */
  store?: IdempotencyStore
}

/**
 * Whose keys these are. A signed-in shopper's, a checkout's (whoever holds its secret), or, for an anonymous write,
 * nobody's but the key's holder: the key itself is the scope. Not the client IP: behind a proxy (TRUST_PROXY unset)
 * every shopper has the proxy's IP, and a shopper whose IP changes between a request and its retry (Wi-Fi to mobile)
 * would have the write applied twice.
 */
const ANONYMOUS = 'anonymous'
/** An anonymous key is the only thing between its replay and another client: it must be unguessable (a UUID is 36). */
export const MIN_ANONYMOUS_KEY_LENGTH = 16

function principalOf(request: FastifyRequest): string {
  if (request.idempotencyPrincipal) return `route:${request.idempotencyPrincipal}`
  if (request.shopper) return `customer:${request.shopper.customerId}`
  return ANONYMOUS
}

function isFinal(status: number): boolean {
  return (status >= 200 && status < 300) || (status >= 400 && status < 500 && !TRANSIENT_4XX.has(status))
}

function bodyText(payload: unknown): string | null {
  if (payload === undefined || payload === null) return ''
  if (typeof payload === 'string') return payload
  if (Buffer.isBuffer(payload)) return payload.toString('utf8')
  return null // a stream: not replayable
}

export default fp<IdempotencyPluginOptions>(
  async function idempotencyPlugin(app, options) {
    // Standalone (a bare Fastify in tests) there is no app config: the default prefix then.
    const redisPrefix = app.hasDecorator('config') ? app.config.REDIS_KEY_PREFIX : 'rb'
    const prefix = options.keyPrefix ?? `${redisPrefix}:${app.deps?.shopper?.namespace ?? ''}idem:`
    // On a cluster or Sentinel a dispatched marker must reach this many replicas before its write is sent.
    const replication = app.hasDecorator('config')
      ? { replicas: app.config.idempotencyReplicas, timeoutMs: app.config.REDIS_IDEMPOTENCY_WAIT_MS }
      : undefined
    const store =
      options.store ??
      (app.redis
        ? new SharedIdempotencyStore(
            new RedisIdempotencyStore(
              withReplyDeadline(app.redis, STORE_DEADLINE_MS),
              IDEMPOTENCY_TIMINGS,
              replication,
            ),
            IDEMPOTENCY_TIMINGS,
            app.log,
          )
        : new MemoryIdempotencyStore(IDEMPOTENCY_TIMINGS))
    app.decorate('idempotencyStore', store)
    app.decorateRequest('idempotencyPrincipal', null)

    const outcomes = app.metrics.counter(
      'recharge_bridge_idempotency_requests_total',
      'Idempotency-Key handling by outcome',
      ['outcome'],
    )

    const gate: preHandlerHookHandler = async function idempotencyGate(request, reply) {
      const mode = request.routeOptions.config.idempotency
      const header = request.headers['idempotency-key']
      if (header === undefined) {
        if (mode === 'required') {
          outcomes.inc({ outcome: 'missing' })
          throw new AppError('IDEMPOTENCY_KEY_REQUIRED', {
            detail: 'Send an Idempotency-Key header (for example a UUID) so a retried request is not applied twice.',
          })
        }
        return
      }
      if (typeof header !== 'string' || !isValidIdempotencyKey(header)) {
        throw new AppError('VALIDATION_FAILED', {
          detail: 'Idempotency-Key must be one value of 1–255 printable ASCII characters.',
          errors: [{ field: 'headers.idempotency-key', message: 'must be 1–255 printable ASCII characters' }],
        })
      }
      const principal = principalOf(request)
      if (principal === ANONYMOUS && header.length < MIN_ANONYMOUS_KEY_LENGTH) {
        throw new AppError('VALIDATION_FAILED', {
          detail: `Without a sign-in, Idempotency-Key must be at least ${MIN_ANONYMOUS_KEY_LENGTH} characters (use a random UUID).`,
          errors: [
            { field: 'headers.idempotency-key', message: `must be at least ${MIN_ANONYMOUS_KEY_LENGTH} characters` },
          ],
        })
      }
      const key = storageKey(prefix, principal, header)
      const fingerprint = requestFingerprint({
        method: request.method,
        url: request.url,
        principal,
        body: request.body,
      })
      let result: Awaited<ReturnType<IdempotencyStore['begin']>>
      try {
        result = await store.begin(key, fingerprint)
      } catch (error) {
        // Fail closed: without the store there is no way to know whether this key was already applied.
        outcomes.inc({ outcome: 'store_unavailable' })
        request.log.warn({ err: { message: (error as Error).message } }, 'idempotency store unavailable')
        throw storeUnavailable()
      }
      if (result.kind === 'started') {
        claims.set(request, { key, owner: result.owner, fingerprint, store, dispatched: false })
        outcomes.inc({ outcome: 'started' })
        return
      }
      if (!result.sameRequest) {
        outcomes.inc({ outcome: 'reused' })
        throw new AppError('IDEMPOTENCY_KEY_REUSED', {
          detail: 'This Idempotency-Key was already used for a different request; use a new key for a new request.',
        })
      }
      if (result.kind === 'unsettled') {
        outcomes.inc({ outcome: 'unsettled' })
        throw new AppError('IDEMPOTENCY_KEY_UNSETTLED', {
          detail:
            'The first request with this Idempotency-Key was sent to Recharge, but its answer could not be recorded, ' +
            'so it is not sent again. Read the resource to see whether the change was applied; use a new key for a ' +
            'new attempt.',
        })
      }
      if (result.kind === 'in-flight') {
        outcomes.inc({ outcome: 'in_flight' })
        throw new AppError('IDEMPOTENCY_KEY_IN_USE', {
          detail: 'The first request with this Idempotency-Key is still running; retry in a moment.',
          retryAfter: 1,
        })
      }
      outcomes.inc({ outcome: 'replayed' })
      return replay(reply, result.response)
    }

    const settle: onSendHookHandler = async function idempotencySettle(request, reply, payload) {
      const claim = claims.get(request)
      if (!claim) return payload
      claims.delete(request)
      const body = bodyText(payload)
      // An answer whose upstream outcome is unknown is kept too: releasing the key would let a same-key retry apply
      // the change a second time.
      const final = isFinal(reply.statusCode) || request.upstreamOutcomeUnknown
      const storable = body !== null && Buffer.byteLength(body) <= MAX_STORED_BODY_BYTES
      try {
        if (final && storable) {
          const response: StoredResponse = { status: reply.statusCode, headers: replayHeaders(reply), body }
          await store.complete(claim.key, claim.owner, claim.fingerprint, response)
        } else if (!claim.dispatched || !final) {
          // Nothing was sent, or what was sent was refused (not applied): the key may be used again.
          await store.release(claim.key, claim.owner)
        }
        // Else a write was sent and its answer cannot be replayed: the dispatched marker stays, and a same-key retry
        // is told the key is unsettled rather than sending the write again.
      } catch (error) {
        // A reservation expires on its own; a dispatched marker stays (a retry is never re-run). The response itself
        // is not affected.
        request.log.warn({ err: { message: (error as Error).message } }, 'idempotency store unavailable at settle')
      }
      return payload
    }

    app.addHook('onRoute', (route: RouteOptions) => {
      if (!route.config?.idempotency) return
      route.preHandler = [...asArray(route.preHandler), gate]
      route.onSend = [...asArray(route.onSend), settle]
    })
  },
  { name: 'idempotency', dependencies: ['redis', 'metrics'] },
)

function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return []
  return Array.isArray(value) ? value : [value]
}

function replayHeaders(reply: FastifyReply): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const name of REPLAYED_HEADERS) {
    const value = reply.getHeader(name)
    if (value !== undefined) headers[name] = String(value)
  }
  return headers
}

function replay(reply: FastifyReply, response: StoredResponse): FastifyReply {
  return reply.code(response.status).headers(response.headers).header(REPLAYED_HEADER, 'true').send(response.body)
}
