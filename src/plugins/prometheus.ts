import fp from 'fastify-plugin'
import { collectDefaultMetrics } from 'prom-client'
import { Metrics } from '../infra/metrics/registry.ts'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

/** The app's metric registry, the request-duration hook and the Prometheus scrape endpoint `/metrics`. */
export default fp(
  async function metricsPlugin(app) {
    const metrics = new Metrics()
    collectDefaultMetrics({ register: metrics.registry })
    app.decorate('metrics', metrics)

    const duration = metrics.requestDuration
    // Series looked up by a string key, created once per (method, route, status).
    app.addHook('onResponse', (request, reply, done) => {
      // The route pattern, never the raw URL: ids and tokens stay out of label values.
      const series = metrics.requestSeries(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode)
      duration.observe(series, reply.elapsedTime / 1000)
      done()
    })

    app.get('/metrics', { schema: { hide: true }, logLevel: 'warn' }, async (_request, reply) => {
      reply.type(metrics.registry.contentType)
      return metrics.registry.metrics()
    })
  },
  { name: 'metrics' },
)
