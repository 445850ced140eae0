import type { Counter, Gauge } from 'prom-client'
import type { Metrics } from '../plugins/metrics.ts'
import type { SeriesCounter } from '../plugins/series-counter.ts'
import type { BreakerState } from './breaker.ts'

/**
 * Cache metrics. Labels are definition names (`products.get`) and fixed outcome words only: never a key, an id or
 * a tag value.
 */
export interface CacheMetrics {
  /** Labels `cache` and `outcome`; counted on every lookup, so a series counter. */
  lookups: SeriesCounter
  dedupeJoins: Counter<'cache'>
  leaseWaits: Counter<'cache' | 'outcome'>
  refreshes: Counter<'cache' | 'outcome'>
  originErrors: Counter<'cache'>
  notStored: Counter<'cache' | 'reason'>
  invalidations: Counter<'source'>
  redisErrors: Counter<'operation'>
  breakerState: Gauge
  l1Bytes: Gauge
  l1Entries: Gauge
  pendingPurges: Gauge
}

export type LookupOutcome = 'hit_l1' | 'hit_l2' | 'miss' | 'stale_revalidate' | 'stale_error' | 'negative_hit'

export function createCacheMetrics(metrics: Metrics): CacheMetrics {
  return {
    lookups: metrics.seriesCounter(
      'recharge_bridge_cache_lookups_total',
      'Cache lookups by outcome (hit tier, miss, stale serve)',
    ),
    dedupeJoins: metrics.counter(
      'recharge_bridge_cache_dedupe_joins_total',
      'Lookups that joined a fetch already in flight in this process',
      ['cache'],
    ),
    leaseWaits: metrics.counter(
      'recharge_bridge_cache_lease_waits_total',
      'Waits for another replica holding the fill lease, by how they ended',
      ['cache', 'outcome'],
    ),
    refreshes: metrics.counter(
      'recharge_bridge_cache_refreshes_total',
      'Background (stale-while-revalidate) refreshes by outcome',
      ['cache', 'outcome'],
    ),
    originErrors: metrics.counter(
      'recharge_bridge_cache_origin_errors_total',
      'Fetches that failed at the origin (not cached)',
      ['cache'],
    ),
    notStored: metrics.counter('recharge_bridge_cache_not_stored_total', 'Fetched values not stored, by reason', [
      'cache',
      'reason',
    ]),
    invalidations: metrics.counter(
      'recharge_bridge_cache_invalidations_total',
      'Invalidations applied to this replica L1',
      ['source'],
    ),
    redisErrors: metrics.counter(
      'recharge_bridge_cache_redis_errors_total',
      'Failed cache calls to Redis, by operation',
      ['operation'],
    ),
    breakerState: metrics.gauge(
      'recharge_bridge_cache_redis_breaker_state',
      'Cache Redis circuit breaker: 0 closed, 1 open, 2 half-open',
    ),
    l1Bytes: metrics.gauge('recharge_bridge_cache_l1_bytes', 'Approximate bytes held by this replica L1'),
    l1Entries: metrics.gauge('recharge_bridge_cache_l1_entries', 'Entries held by this replica L1'),
    pendingPurges: metrics.gauge(
      'recharge_bridge_cache_pending_purges',
      'Invalidations (tags and keys) owed to Redis, retried until it is reachable',
    ),
  }
}

export function breakerStateValue(state: BreakerState): number {
  return state === 'closed' ? 0 : state === 'open' ? 1 : 2
}
