import { SeriesMetric } from './series-metric.ts'

/** One label set's series: per-bucket counts (not cumulative; the last slot is +Inf), sum and count. */
export interface HistogramSeries {
  readonly labels: Readonly<Record<string, string>>
  readonly counts: Float64Array
  sum: number
  count: number
}

interface ExportedValue {
  labels: Record<string, string | number>
  /** Rendered after `labels` (prom-client's own histograms put `le` first, then the series labels). */
  sharedLabels?: Readonly<Record<string, string>>
  value: number
  metricName: string
}

/**
 * A histogram for hot paths (the HTTP request duration, observed once per response; the Recharge queue wait, once per
 * upstream call); see SeriesMetric. On a cached catalog hit prom-client's per-observation label hashing was about 4 %
 * of the bridge's CPU; here an observation is a bucket search and three additions. Scrapes render the usual
 * `_bucket`/`_sum`/`_count` lines.
 */
export class SeriesHistogram extends SeriesMetric<HistogramSeries> {
  readonly type = 'histogram'
  private readonly bounds: readonly number[]

  constructor(name: string, help: string, bounds: readonly number[]) {
    super(name, help)
    this.bounds = bounds
  }

  protected newSeries(labels: Record<string, string>): HistogramSeries {
    return { labels, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 }
  }

  observe(series: HistogramSeries, seconds: number): void {
    let bucket = 0
    while (bucket < this.bounds.length && seconds > (this.bounds[bucket] as number)) bucket++
    series.counts[bucket] = (series.counts[bucket] as number) + 1
    series.sum += seconds
    series.count++
  }

  /** What prom-client's registry renders (same shape as its own histograms). */
  async get() {
    const values: ExportedValue[] = []
    const bucketName = `${this.name}_bucket`
    for (const series of this.series.values()) {
      let cumulative = 0
      this.bounds.forEach((le, i) => {
        cumulative += series.counts[i] as number
        values.push({ labels: { le }, sharedLabels: series.labels, value: cumulative, metricName: bucketName })
      })
      const { labels } = series
      values.push({ labels: { le: '+Inf' }, sharedLabels: labels, value: series.count, metricName: bucketName })
      values.push({ labels: {}, sharedLabels: labels, value: series.sum, metricName: `${this.name}_sum` })
      values.push({ labels: {}, sharedLabels: labels, value: series.count, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  reset(): void {
    this.series.clear()
  }
}
