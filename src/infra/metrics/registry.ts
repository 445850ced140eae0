import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { SeriesCounter } from './series-counter.ts'
import { type HistogramSeries, SeriesHistogram } from './series-histogram.ts'

/** Seconds: from a cache hit (milliseconds) to a call at its deadline. */
const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const

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
  /** Observed once per response: by the onResponse hook of src/plugins/prometheus.ts, and by fast reads (src/fast-reads.ts) themselves. */
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
