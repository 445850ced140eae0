import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import fp from 'fastify-plugin'
import { collectDefaultMetrics } from 'prom-client'
import { AppError } from '../errors.ts'
import { METRIC_PREFIX, Metrics } from '../infra/metrics/registry.ts'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
    /** The listener of METRICS_PORT once the app is ready; undefined when /metrics is on the API port. */
    metricsServer: Server | undefined
  }
}

/**
 * The app's metric registry, the request-duration hook and the Prometheus scrape endpoint `/metrics` (behind
 * METRICS_TOKEN when set, on its own METRICS_PORT listener when set).
 */
export default fp(
  async function metricsPlugin(app) {
    const metrics = new Metrics()
    collectDefaultMetrics({ register: metrics.registry, prefix: METRIC_PREFIX })
    app.decorate('metrics', metrics)
    // Tests may register the plugin on a bare Fastify without the app's config: /metrics is then open.
    const settings = app.hasDecorator('config') ? app.config : undefined
    const token = settings?.METRICS_TOKEN
    const port = settings?.METRICS_PORT
    const host = settings?.HOST
    const authorised = bearerCheck(token)

    const duration = metrics.requestDuration
    // Series looked up by a string key, created once per (method, route, status).
    app.addHook('onResponse', (request, reply, done) => {
      // The route pattern, never the raw URL: ids and tokens stay out of label values.
      const series = metrics.requestSeries(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode)
      duration.observe(series, reply.elapsedTime / 1000)
      done()
    })

    if (port === undefined) {
      app.decorate('metricsServer', undefined)
      app.get('/metrics', { schema: { hide: true }, logLevel: 'warn' }, async (request, reply) => {
        if (!authorised(request.headers.authorization)) {
          reply.header('www-authenticate', 'Bearer')
          throw new AppError('UNAUTHENTICATED', { detail: 'Send METRICS_TOKEN as Authorization: Bearer <token>.' })
        }
        reply.type(metrics.registry.contentType)
        return metrics.registry.metrics()
      })
      return
    }
    // Its own listener: the API port (and the load balancer in front of it) never serves /metrics.
    const server = createServer((request, response) => {
      const path = (request.url ?? '').split('?')[0]
      if (request.method !== 'GET' || path !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
        return
      }
      if (!authorised(request.headers.authorization)) {
        response.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' }).end('unauthorized\n')
        return
      }
      metrics.registry.metrics().then(
        (body) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
        () => response.writeHead(500).end(),
      )
    })
    app.decorate('metricsServer', server)
    app.addHook('onReady', async () => {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => resolve())
      })
    })
    app.addHook('onClose', async () => {
      if (server.listening) await new Promise((resolve) => server.close(resolve))
    })
  },
  { name: 'metrics' },
)

/** Whether an Authorization header carries METRICS_TOKEN (always true when none is configured). */
function bearerCheck(token: string | undefined): (header: string | undefined) => boolean {
  if (!token) return () => true
  const expected = createHash('sha256').update(token).digest()
  return (header) => {
    const presented = /^Bearer (\S+)$/i.exec(header ?? '')?.[1]
    // Hashes of equal length: the comparison takes the same time whatever was presented.
    return presented !== undefined && timingSafeEqual(createHash('sha256').update(presented).digest(), expected)
  }
}
