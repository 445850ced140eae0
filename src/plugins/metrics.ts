import fp from 'fastify-plugin'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

/**
 * One registry per app instance (several apps run in one test process). Components create their metrics through
 * these helpers so every metric lands in the registry /metrics serves. Label values must never carry secrets or ids.
 */
export class Metrics {
  readonly registry = new Registry()

  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return this.existing(name) ?? new Counter({ name, help, labelNames, registers: [this.registry] })
  }

  gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return this.existing(name) ?? new Gauge({ name, help, labelNames, registers: [this.registry] })
  }

  histogram<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  ): Histogram<L> {
    return this.existing(name) ?? new Histogram({ name, help, labelNames, buckets, registers: [this.registry] })
  }

  // biome-ignore lint/suspicious/noExplicitAny: prom-client's metric classes share no useful common type
  private existing(name: string): any {
    return this.registry.getSingleMetric(name)
  }
}

export default fp(
  async function metricsPlugin(app) {
    const metrics = new Metrics()
    collectDefaultMetrics({ register: metrics.registry })
    app.decorate('metrics', metrics)

    const duration = metrics.histogram('http_request_duration_seconds', 'HTTP request duration by route', [
      'method',
      'route',
      'status_code',
    ])
    // One labelled child per (method, route, status), looked up by a string key: prom-client's label hashing per
    // observation is the costly part of this hook.
    const children = new Map<string, ReturnType<typeof duration.labels>>()
    app.addHook('onResponse', (request, reply, done) => {
      // The route pattern, never the raw URL: ids and tokens stay out of label values.
      const route = request.routeOptions.url ?? 'unmatched'
      const key = `${request.method} ${route} ${reply.statusCode}`
      let child = children.get(key)
      if (!child) {
        child = duration.labels({ method: request.method, route, status_code: String(reply.statusCode) })
        children.set(key, child)
      }
      child.observe(reply.elapsedTime / 1000)
      done()
    })

    app.get('/metrics', { schema: { hide: true }, logLevel: 'warn' }, async (_request, reply) => {
      reply.type(metrics.registry.contentType)
      return metrics.registry.metrics()
    })
  },
  { name: 'metrics' },
)
