import { Readable } from 'node:stream'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { Simulator } from './context.ts'
import { BAD_VERSION_BODY, NOT_JSON_BODY, RATE_LIMITED_BODY, SimError, UNAUTHORIZED_BODY } from './errors.ts'
import { defaultFaultBody, type FaultRule } from './faults.ts'
import type { LedgerEntry } from './ledger.ts'
import { resolveOptions, type SimulatorOptions } from './options.ts'
import { controlRoutes } from './routes/control.ts'
import { hostedCheckoutRoutes } from './routes/hosted-checkout.ts'
import { registerRechargeRoutes } from './routes/index.ts'
import { portalRoutes } from './routes/portal.ts'

declare module 'fastify' {
  interface FastifyInstance {
    sim: Simulator
  }
  interface FastifyRequest {
    simLedger?: LedgerEntry
    simFault?: FaultRule
  }
}

export const SUPPORTED_VERSION = '2021-11'

/** Paths outside the Recharge API (control API, hosted-page stand-ins): no ledger, token, rate limit or faults. */
const NON_API_PREFIXES = ['/__sim/', '/portal/', '/r/checkout/']

/**
 * The Recharge 2021-11 simulator as a Fastify app (never listens by itself; see server.ts / embedded.ts).
 * Every Recharge path goes through, in order: ledger → token (401) → version (426) → leaky bucket (429, not
 * processed) → fault rules → the route. `/__sim/*` (control API), `/portal/*` and `/r/checkout/*` (stand-ins for
 * Recharge's hosted portal and checkout pages, which a shopper's browser opens) skip all of that. No per-request
 * logging: this app is also the upstream in benchmarks.
 */
export async function buildSimulator(options: SimulatorOptions = {}): Promise<FastifyInstance> {
  const sim = new Simulator(resolveOptions(options))
  const tokens = new Set(sim.options.apiTokens)
  const app = Fastify({ logger: false, forceCloseConnections: true, bodyLimit: 5 * 1024 * 1024 })
  app.decorate('sim', sim)

  app.removeContentTypeParser(['application/json', 'text/plain'])
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8')
    if (text.trim() === '') return done(null, {})
    try {
      done(null, JSON.parse(text))
    } catch {
      done(new SimError(415, NOT_JSON_BODY), undefined)
    }
  })

  let requestCounter = 0
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?', 1)[0] as string
    if (NON_API_PREFIXES.some((prefix) => path.startsWith(prefix))) return

    requestCounter += 1
    reply.header('x-request-id', `sim-${requestCounter.toString(16).padStart(8, '0')}`)
    const idempotencyKey = request.headers['idempotency-key']
    const entry: LedgerEntry = {
      method: request.method,
      path,
      query: plainQuery(request.query),
      status: null,
      at: new Date(sim.clock.now()).toISOString(),
    }
    if (typeof idempotencyKey === 'string') entry.idempotencyKey = idempotencyKey
    request.simLedger = sim.ledger.record(entry)

    const token = request.headers['x-recharge-access-token']
    if (typeof token !== 'string' || !tokens.has(token)) {
      return reply.code(401).send(UNAUTHORIZED_BODY)
    }
    const version = request.headers['x-recharge-version']
    if (version !== undefined && version !== SUPPORTED_VERSION) {
      return reply.code(426).send(BAD_VERSION_BODY)
    }
    const decision = sim.buckets.take(token, sim.clock.now())
    reply.header('x-recharge-limit', `${decision.used}/${decision.size}`)
    if (!decision.allowed) return reply.code(429).send(RATE_LIMITED_BODY)

    if (sim.faults.empty) return
    const fault = sim.faults.take(request.method, path)
    if (!fault) return
    if (fault.latencyMs && fault.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs))
    if (fault.gate) await sim.gates.wait(fault.gate)
    if (fault.headers) reply.headers(fault.headers)
    if (fault.hang) {
      reply.hijack()
      return
    }
    if (fault.status !== undefined) {
      return reply.code(fault.status).send(fault.body ?? defaultFaultBody(fault.status))
    }
    if (fault.malformed || fault.truncate || fault.huge) request.simFault = fault
  })

  app.addHook('onSend', async (request, reply, payload) => {
    const fault = request.simFault
    if (!fault || typeof payload !== 'string') return payload
    if (fault.malformed) return `${payload.slice(0, Math.max(1, payload.length - 2))}"\u0000`
    if (fault.truncate) {
      // Promise the whole body, send half, then fail the stream: the connection drops mid-body.
      if (request.simLedger) request.simLedger.status = reply.statusCode
      reply.header('content-length', Buffer.byteLength(payload))
      const stream = new Readable({ read() {} })
      stream.push(payload.slice(0, Math.floor(payload.length / 2)))
      setImmediate(() => stream.destroy(new Error('simulated truncated response')))
      return stream
    }
    if (fault.huge) return payload + ' '.repeat(fault.hugeBytes ?? 8 * 1024 * 1024)
    return payload
  })

  app.addHook('onResponse', async (request, reply) => {
    if (request.simLedger) request.simLedger.status = reply.statusCode
  })

  app.setErrorHandler((error: Error, _request, reply: FastifyReply) => {
    if (error instanceof SimError) return reply.code(error.status).send(error.body)
    const status = (error as { statusCode?: number }).statusCode
    if (status === 415 || (error as { code?: string }).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.code(415).send(NOT_JSON_BODY)
    }
    if (status && status >= 400 && status < 500) return reply.code(status).send({ errors: error.message })
    return reply.code(500).send({ errors: 'Internal server error' })
  })
  app.setNotFoundHandler((_request: FastifyRequest, reply: FastifyReply) =>
    reply.code(404).send({ errors: 'Not Found' }),
  )

  await app.register(controlRoutes, { sim })
  await app.register(portalRoutes, { sim })
  await app.register(hostedCheckoutRoutes, { sim })
  await app.register(registerRechargeRoutes, { sim })
  app.addHook('onClose', async () => sim.webhooks.close())
  return app
}

function plainQuery(query: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (!query || typeof query !== 'object') return out
  for (const [key, value] of Object.entries(query)) out[key] = Array.isArray(value) ? value.join(',') : String(value)
  return out
}
