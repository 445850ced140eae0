import type { FastifyBaseLogger } from 'fastify'
import type { Metrics } from '../infra/metrics/registry.ts'
import type { BookingLane } from './queue/gcra.ts'
import type { Lane } from './types.ts'

/** The log methods the Recharge layer uses (pino's shape); a no-op outside an app. */
export type RechargeLog = Pick<FastifyBaseLogger, 'debug' | 'info' | 'warn' | 'error'> & {
  /** pino's: lets the hot path skip building a debug line nobody will write. */
  isLevelEnabled?: (level: string) => boolean
}

/** What the Recharge layer reports. Label values are lanes, path templates and status codes: never ids or secrets. */
export interface RechargeMetrics {
  /** `optional`: a read an answer can do without, booked between the two lanes (queue/gcra.ts). */
  queueWait(lane: BookingLane, seconds: number): void
  /** `public-client` / `public-share`: an anonymous call refused by its allowance (src/recharge/budget). */
  admissionRejected(lane: BookingLane | 'public-client' | 'public-share'): void
  upstreamResponse(operation: string, status: string): void
  upstreamRateLimited(): void
  bucketLevel(used: number): void
  degraded(on: boolean): void
  /** Rows of a list page left out because a field the bridge reads could not be used. */
  unusableRows(operation: string, count: number): void
}

/** A span the Recharge layer ends: with the upstream status, 'error' when none came, or nothing (a queue wait). */
export interface TraceSpan {
  end(status?: number | 'error'): void
}

/** Traces of Recharge calls (src/tracing.ts); absent when tracing is off. Arguments are templates, never ids. */
export interface RechargeTracer {
  queueWait(operation: string, lane: Lane, requestId: string | undefined): TraceSpan
  upstreamCall(operation: string, attempt: number, requestId: string | undefined): TraceSpan
}

const nothing = () => {}

export const noopLog: RechargeLog = {
  debug: nothing,
  info: nothing,
  warn: nothing,
  error: nothing,
  isLevelEnabled: () => false,
}

export const noopMetrics: RechargeMetrics = {
  queueWait: nothing,
  admissionRejected: nothing,
  upstreamResponse: nothing,
  upstreamRateLimited: nothing,
  bucketLevel: nothing,
  degraded: nothing,
  unusableRows: nothing,
}

/** Bind the Recharge metrics to an app's Prometheus registry. */
export function prometheusRechargeMetrics(metrics: Metrics): RechargeMetrics {
  // Observed once per upstream call: a series histogram, one series per lane.
  const wait = metrics.seriesHistogram(
    'recharge_bridge_recharge_queue_wait_seconds',
    'Time a Recharge call waited for its rate-limit slot, by lane',
    [0, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60],
  )
  const rejected = metrics.counter(
    'recharge_bridge_recharge_admissions_rejected_total',
    'Recharge calls refused at admission because their slot was past their deadline, by lane',
    ['lane'],
  )
  // Counted once per upstream call: a series counter, one series per (operation, status).
  const responses = metrics.seriesCounter(
    'recharge_bridge_recharge_upstream_responses_total',
    'Recharge answers by operation (method and path template) and status ("error" when none)',
  )
  const limited = metrics.counter(
    'recharge_bridge_recharge_upstream_429_total',
    'Upstream 429 answers (each one sets the bucket full)',
  )
  const level = metrics.gauge(
    'recharge_bridge_recharge_bucket_level',
    'Calls in the token bucket as Recharge last reported them',
  )
  const degraded = metrics.gauge(
    'recharge_bridge_recharge_limiter_degraded',
    '1 while the shared (Redis) limiter is unavailable and an in-process share of the budget is used',
  )
  const unusable = metrics.counter(
    'recharge_bridge_recharge_unusable_rows_total',
    'Rows of a Recharge list page left out because a field the bridge reads could not be used, by operation',
    ['operation'],
  )
  let lastLevel: number | undefined
  return {
    queueWait: (lane, seconds) =>
      wait.observe(
        wait.seriesFor(lane, () => ({ lane })),
        seconds,
      ),
    admissionRejected: (lane) => rejected.inc({ lane }),
    upstreamResponse: (operation, status) =>
      responses.inc(responses.seriesFor(`${operation} ${status}`, () => ({ operation, status }))),
    upstreamRateLimited: () => limited.inc(),
    bucketLevel: (used) => {
      // Reported on every answer and usually unchanged: setting a gauge costs a label-set hash each time.
      if (used === lastLevel) return
      lastLevel = used
      level.set(used)
    },
    degraded: (on) => degraded.set(on ? 1 : 0),
    unusableRows: (operation, count) => unusable.inc({ operation }, count),
  }
}
