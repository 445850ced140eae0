import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import fp from 'fastify-plugin'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import { AppError } from '../errors.ts'
import { SeriesCounter } from './series-counter.ts'
import { type HistogramSeries, SeriesHistogram } from './series-histogram.ts'

/** Seconds: from a cache hit (milliseconds) to a call at its deadline. */
const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
    /** The listener of METRICS_PORT once the app is ready; undefined when /metrics is on the API port. */
    metricsServer: Server | undefined
  }
}

/** Every metric this process exports starts with it (Prometheus convention: one namespace per application). */
export const METRIC_PREFIX = 'recharge_bridge_'

function checkedName(name: string): string {
  if (!name.startsWith(METRIC_PREFIX)) throw new Error(`metric ${name} must be named ${METRIC_PREFIX}*`)
  return name
}

/**
 * One registry per app instance (several apps run in one test process). Components create their metrics through
 * these helpers so every metric lands in the registry /metrics serves. Label values must never carry secrets or ids.
 */
export class Metrics {
  readonly registry = new Registry()
  /** Observed once per response: by the onResponse hook below, and by fast reads (src/fast-reads.ts) themselves. */
  readonly requestDuration = new SeriesHistogram(
    'recharge_bridge_http_request_duration_seconds',
    'HTTP request duration by route',
    DEFAULT_BUCKETS,
  )

  constructor() {
    this.registry.registerMetric(this.requestDuration.asMetric())
  }

  /** The request-duration series of one (method, route pattern, status); keep it to observe without a lookup. */
  requestSeries(method: string, route: string, status: number): HistogramSeries {
    return this.requestDuration.seriesFor(`${method} ${route} ${status}`, () => ({
      method,
      route,
      status_code: String(status),
    }))
  }

  /** A histogram for hot paths: callers keep the series they observe into (see SeriesHistogram). */
  seriesHistogram(name: string, help: string, buckets: readonly number[] = DEFAULT_BUCKETS): SeriesHistogram {
    return this.registered(name, SeriesHistogram, () => new SeriesHistogram(checkedName(name), help, buckets))
  }

  /** A counter for hot paths: callers keep the series they count into (see SeriesCounter). */
  seriesCounter(name: string, help: string): SeriesCounter {
    return this.registered(name, SeriesCounter, () => new SeriesCounter(checkedName(name), help))
  }

  /** The series metric already registered under `name`, or a new one registered now. */
  private registered<M extends SeriesCounter | SeriesHistogram>(
    name: string,
    kind: abstract new (...args: never[]) => M,
    create: () => M,
  ): M {
    const existing = this.existing(name)
    if (existing instanceof kind) return existing
    const metric = create()
    this.registry.registerMetric(metric.asMetric())
    return metric
  }

  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return this.existing(name) ?? new Counter({ name: checkedName(name), help, labelNames, registers: [this.registry] })
  }

  gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return this.existing(name) ?? new Gauge({ name: checkedName(name), help, labelNames, registers: [this.registry] })
  }

  histogram<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    buckets: readonly number[] = DEFAULT_BUCKETS,
  ): Histogram<L> {
    return (
      this.existing(name) ??
      new Histogram({ name: checkedName(name), help, labelNames, buckets: [...buckets], registers: [this.registry] })
    )
  }

  // biome-ignore lint/suspicious/noExplicitAny: prom-client's metric classes share no useful common type
  private existing(name: string): any {
    return this.registry.getSingleMetric(name)
  }
}

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
