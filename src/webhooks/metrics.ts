import type { Metrics } from '../plugins/metrics.ts'
import { KNOWN_RESOURCES } from './topics.ts'

/** Webhook metrics. Labels are bounded sets (resource family, reason); never ids, topics from URLs or secrets. */
export function webhookMetrics(metrics: Metrics) {
  return {
    received: metrics.counter('recharge_bridge_webhook_deliveries_received_total', 'Verified deliveries acknowledged', [
      'resource',
    ]),
    rejected: metrics.counter(
      'recharge_bridge_webhook_deliveries_rejected_total',
      'Deliveries refused before acknowledgement',
      ['reason'],
    ),
    deduplicated: metrics.counter(
      'recharge_bridge_webhook_events_deduplicated_total',
      'Deliveries skipped as already processed',
    ),
    superseded: metrics.counter(
      'recharge_bridge_webhook_events_superseded_total',
      'Events older than a version already seen (acknowledged, caches left alone)',
    ),
    processed: metrics.counter('recharge_bridge_webhook_events_processed_total', 'Events processed', ['resource']),
    failed: metrics.counter(
      'recharge_bridge_webhook_events_failed_total',
      'Processing attempts that failed (retried)',
      ['stage'],
    ),
    deadLettered: metrics.counter(
      'recharge_bridge_webhook_events_dead_lettered_total',
      'Jobs given up after their last attempt',
      ['stage'],
    ),
    forwarded: metrics.counter(
      'recharge_bridge_webhook_events_forwarded_total',
      'Events delivered to WEBHOOK_FORWARD_URL',
    ),
    lag: metrics.histogram(
      'recharge_bridge_webhook_processing_lag_seconds',
      'Seconds between acknowledging a delivery and finishing its processing',
      [],
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 30, 120, 600],
    ),
    pending: metrics.gauge('recharge_bridge_webhook_queue_pending', 'Jobs acknowledged and not yet done', ['stage']),
    registered: metrics.gauge(
      'recharge_bridge_webhook_topics_missing',
      'Needed topics not registered at Recharge (last check)',
    ),
  }
}

export type WebhookMetrics = ReturnType<typeof webhookMetrics>

/** The resource as a metric label: a known family or "other". */
export function resourceLabel(resource: string): string {
  return (KNOWN_RESOURCES as readonly string[]).includes(resource) ? resource : 'other'
}
