import { SeriesMetric } from './series-metric.ts'

/** One label set's running total. */
export interface CounterSeries {
  readonly labels: Readonly<Record<string, string>>
  value: number
}

/** A counter for hot paths (cache lookups, upstream answers: one increment per request); see SeriesMetric. */
export class SeriesCounter extends SeriesMetric<CounterSeries> {
  readonly type = 'counter'

  protected newSeries(labels: Record<string, string>): CounterSeries {
    return { labels, value: 0 }
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
}
