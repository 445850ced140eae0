import type { Metric } from 'prom-client'

/** One label set's running total. */
export interface CounterSeries {
  readonly labels: Readonly<Record<string, string>>
  value: number
}

/**
 * A counter for hot paths (cache lookups, upstream answers: one increment per request). prom-client's Counter
 * validates and hashes the label set on every increment, even through a labelled child; here the caller keeps the
 * series it counts into and an increment is one addition. Scrapes render it through prom-client's registry, like
 * SeriesHistogram.
 */
export class SeriesCounter {
  readonly type = 'counter'
  readonly aggregator = 'sum'
  readonly name: string
  readonly help: string
  private readonly series = new Map<string, CounterSeries>()

  constructor(name: string, help: string) {
    this.name = name
    this.help = help
  }

  /** The series for `key`, created with `labels` the first time. Keep it: counting needs no lookup. */
  seriesFor(key: string, labels: () => Record<string, string>): CounterSeries {
    let series = this.series.get(key)
    if (!series) {
      series = { labels: labels(), value: 0 }
      this.series.set(key, series)
    }
    return series
  }

  inc(series: CounterSeries, by = 1): void {
    series.value += by
  }

  /** What prom-client's registry renders (same shape as its own counters). */
  async get() {
    const values = [...this.series.values()].map((series) => ({ labels: { ...series.labels }, value: series.value }))
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  reset(): void {
    for (const series of this.series.values()) series.value = 0
  }

  /** For `registry.registerMetric`, which is typed for prom-client's own classes. */
  asMetric(): Metric {
    return this as unknown as Metric
  }
}
