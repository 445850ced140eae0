import type { Metric } from 'prom-client'

/**
 * What SeriesCounter and SeriesHistogram share: one series object per label set, found by a caller-chosen key and kept
 * by the caller, so the hot path never validates or hashes labels (prom-client does both on every call, even through
 * a labelled child). Subclasses say how a series starts and how it renders; scrapes go through prom-client's registry,
 * which reads the `get()` shape of its own metrics.
 */
export abstract class SeriesMetric<S extends { readonly labels: Readonly<Record<string, string>> }> {
  abstract readonly type: 'counter' | 'histogram'
  readonly aggregator = 'sum'
  readonly name: string
  readonly help: string
  protected readonly series = new Map<string, S>()

  constructor(name: string, help: string) {
    this.name = name
    this.help = help
  }

  /** The series for `key`, created with `labels` the first time. Keep it: recording into it needs no lookup. */
  seriesFor(key: string, labels: () => Record<string, string>): S {
    let series = this.series.get(key)
    if (!series) {
      series = this.newSeries(labels())
      this.series.set(key, series)
    }
    return series
  }

  protected abstract newSeries(labels: Record<string, string>): S

  /** For `registry.registerMetric`, which is typed for prom-client's own classes. */
  asMetric(): Metric {
    return this as unknown as Metric
  }
}
