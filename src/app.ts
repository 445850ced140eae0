import { readFileSync } from 'node:fs'
import type { SpanExporter } from '@opentelemetry/sdk-trace'
import Fastify, { type FastifyInstance } from 'fastify'
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import type { Dispatcher } from 'undici'
import { cacheKeyPrefix } from './cache/keys.ts'
import { type Config, trustProxySetting } from './config.ts'
import { answerClientError } from './edge-problems.ts'
import { FastReads } from './fast-reads.ts'
import redisPlugin, { type RedisClient } from './infra/redis.ts'
import { loggerOptions, requestIdFrom } from './logger.ts'
import authPlugin from './plugins/auth.ts'
import cachePlugin from './plugins/cache.ts'
import catalogPlugin from './plugins/catalog.ts'
import errorHandler, { sendProblem, toAppError } from './plugins/error-handler.ts'
import health from './plugins/health.ts'
import idempotencyPlugin from './plugins/idempotency.ts'
import importsPlugin from './plugins/imports.ts'
import mirrorPlugin from './plugins/mirror.ts'
import openapi from './plugins/openapi.ts'
import metricsPlugin from './plugins/prometheus.ts'
import rechargePlugin from './plugins/recharge.ts'
import security from './plugins/security.ts'
import shopifyPlugin from './plugins/shopify.ts'
import shopperPlugin from './plugins/shopper.ts'
import tracingPlugin from './plugins/tracing.ts'
import webhooksPlugin from './plugins/webhooks.ts'
import { deferredChildLogger } from './request-logger.ts'
import routes from './routes/index.ts'

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }

/** What tests (and the CLI) may inject instead of what buildApp would create from config. */
export interface AppDeps {
  /** A Redis client the app uses but does not close; `null` forces in-process state even with REDIS_URL set. */
  redis?: RedisClient | null
  /** The upstream transport (undici MockAgent, a fault proxy's Pool). The token interceptor is still composed on it. */
  rechargeDispatcher?: Dispatcher
  /** Where logs go instead of stdout (tests capture them to prove nothing secret is logged). */
  logStream?: NodeJS.WritableStream
  /** Start background workers (webhook consumer, watchdog, refreshes). Default true; tests may turn them off. */
  backgroundWorkers?: boolean
  /** Where spans go instead of OTLP (tests pass an InMemorySpanExporter); turns tracing on. */
  spanExporter?: SpanExporter
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    deps: AppDeps
    /** Reads answered from memory before routing (cached catalog products); see src/fast-reads.ts. */
    fastReads: FastReads
  }
}

/** JSON routes take small bodies; the catalog sync feed route raises its own limit. */
export const JSON_BODY_LIMIT = 64 * 1024

/** Build the application. Never listens: server.ts, the CLI and tests decide what to do with it. */
export async function buildApp(config: Config, deps: AppDeps = {}): Promise<FastifyInstance> {
  const fastReads = new FastReads()
  const app = Fastify({
    serverFactory: fastReads.serverFactory,
    logger: loggerOptions(config, deps.logStream),
    childLoggerFactory: deferredChildLogger,
    bodyLimit: JSON_BODY_LIMIT,
    connectionTimeout: 60_000,
    requestTimeout: 30_000,
    // Longer than common load balancer idle timeouts (60 s), so the balancer closes idle connections first.
    keepAliveTimeout: 72_000,
    // A closing server answers 503 problem+json from the server factory (src/edge-problems.ts), not Fastify's JSON.
    return503OnClosing: false,
    clientErrorHandler: answerClientError,
    requestIdHeader: false,
    genReqId: (request) => requestIdFrom(request.headers['x-request-id']),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Errors the router raises before any route runs (bad URL, over-long parameter) get the same problem+json.
    frameworkErrors: (error, request, reply) => {
      sendProblem(request, reply, toAppError(error))
    },
    trustProxy: trustProxySetting(config.TRUST_PROXY),
  }).withTypeProvider<ZodTypeProvider>()

  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.decorate('config', config)
  app.decorate('deps', deps)
  app.decorate('fastReads', fastReads)
  app.addHook('preClose', async () => fastReads.shutdown())
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    done()
  })

  await app.register(errorHandler)
  // First: @fastify/swagger documents only the routes registered after it.
  await app.register(openapi, { version, serveUi: true })
  await app.register(metricsPlugin)
  await app.register(tracingPlugin, { version })
  await app.register(security, { corsOrigins: config.CORS_ORIGINS, publicUrl: config.PUBLIC_URL })
  await app.register(redisPlugin, { topology: config.redis, ...('redis' in deps ? { client: deps.redis } : {}) })
  await app.register(health)
  await app.register(cachePlugin, { keyPrefix: cacheKeyPrefix(config.REDIS_KEY_PREFIX) })
  await app.register(rechargePlugin)
  await app.register(catalogPlugin)
  await app.register(idempotencyPlugin)
  await app.register(mirrorPlugin)
  await app.register(shopperPlugin)
  await app.register(authPlugin)
  await app.register(shopifyPlugin)
  await app.register(webhooksPlugin)
  await app.register(importsPlugin)
  await app.register(routes)

  return app
}
