import fp from 'fastify-plugin'
import { startTracing, type Tracing } from '../tracing.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** OpenTelemetry traces (src/tracing.ts); undefined unless OTEL_EXPORTER_OTLP_ENDPOINT is set. */
    tracing: Tracing | undefined
  }
}

/**
 * One SERVER span per request, named by method and route pattern, ended with the status. Registered before the
 * routes' own hooks so the span also covers authentication and validation. With tracing on, every request goes
 * through Fastify (the fast in-memory reads would answer without a span).
 */
export default fp(
  async function tracingPlugin(app, options: { version: string }) {
    const tracing = await startTracing({
      endpoint: app.config.OTEL_EXPORTER_OTLP_ENDPOINT,
      serviceName: app.config.OTEL_SERVICE_NAME,
      serviceVersion: options.version,
      ...(app.deps.spanExporter ? { exporter: app.deps.spanExporter } : {}),
    })
    app.decorate('tracing', tracing)
    if (!tracing) return
    app.fastReads.close()
    app.addHook('onRequest', (request, _reply, done) => {
      tracing.requestStarted({
        id: request.id,
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        headers: request.headers,
      })
      done()
    })
    // After body parsing: the handler and everything it awaits run inside the scope (cache fetches, Recharge calls).
    app.addHook('preHandler', (request, _reply, done) => {
      tracing.scope.run(request.id, done)
    })
    app.addHook('onResponse', (request, reply, done) => {
      tracing.requestFinished(request.id, reply.statusCode)
      done()
    })
    app.addHook('onRequestAbort', (request, done) => {
      tracing.requestFinished(request.id, undefined)
      done()
    })
    app.addHook('onClose', async () => {
      await tracing.shutdown()
    })
  },
  { name: 'tracing' },
)
