import type { Dispatcher } from 'undici'
import type { Config } from '../config.ts'
import type { RedisClient } from '../plugins/redis.ts'
import { LocalAllowances, RedisAllowances } from './budget/allowance.ts'
import { type BudgetSettings, DEFAULT_BUDGET, UpstreamBudget } from './budget/budget.ts'
import { createRechargeClient, type RechargeClient } from './client.ts'
import { createRechargeDispatcher } from './dispatcher.ts'
import { tokenFingerprint } from './fingerprint.ts'
import { noopLog, noopMetrics, type RechargeLog, type RechargeMetrics, type RechargeTracer } from './observability.ts'
import { LocalAddressLocks, RedisAddressLocks } from './queue/address-lock.ts'
import { FailoverGcra } from './queue/failover-gcra.ts'
import { type GcraStore, gcraParams, LocalGcra, lateTolerance } from './queue/gcra.ts'
import { RechargeQueue } from './queue/queue.ts'
import { RedisGcra } from './queue/redis-gcra.ts'
import { Transport } from './transport.ts'

/**
 * Assembles the Recharge layer outside of Fastify (the plugin, the CLI and the queue benchmark all use this):
 * dispatcher (with the credentials interceptor) → queue (shared GCRA in Redis, or in process) → transport → client.
 */
export interface RechargeOptions {
  baseUrl: string
  token: string
  apiVersion: string
  bucketSize: number
  leakRate: number
  /** Shared budget across replicas when set; in-process otherwise. */
  redis?: RedisClient | null | undefined
  /** Prefix of every Redis key (default `rb`); the token fingerprint is appended as the hash tag. */
  keyPrefix?: string
  /** Replicas expected to share the token: while Redis is down each one uses this share of the rate (default 2). */
  expectedReplicas?: number
  dispatcher?: Dispatcher | undefined
  log?: RechargeLog
  metrics?: RechargeMetrics
  /** Spans for queue waits and upstream calls (src/tracing.ts); none when tracing is off. */
  tracer?: RechargeTracer | undefined
  /** Override of the safety margin (calls kept free below the top of the bucket). */
  safety?: number
  /** Shares of the bucket anonymous clients and shoppers may spend (src/recharge/budget); defaults DEFAULT_BUDGET. */
  budget?: Partial<Omit<BudgetSettings, 'bucketSize' | 'leakRate'>>
}

/** The options a deployment's configuration decides: the same for the server and the CLI, so both share one budget. */
export function rechargeOptionsFrom(
  config: Pick<
    Config,
    | 'RECHARGE_API_URL'
    | 'RECHARGE_API_VERSION'
    | 'RECHARGE_BUCKET_SIZE'
    | 'RECHARGE_LEAK_RATE'
    | 'RECHARGE_EXPECTED_REPLICAS'
    | 'REDIS_KEY_PREFIX'
    | 'PUBLIC_BUDGET_SHARE'
    | 'PUBLIC_CLIENT_CALLS_PER_MINUTE'
    | 'SHOPPER_REREADS_PER_MINUTE'
  >,
  token: string,
): RechargeOptions {
  return {
    baseUrl: config.RECHARGE_API_URL,
    token,
    apiVersion: config.RECHARGE_API_VERSION,
    bucketSize: config.RECHARGE_BUCKET_SIZE,
    leakRate: config.RECHARGE_LEAK_RATE,
    expectedReplicas: config.RECHARGE_EXPECTED_REPLICAS,
    keyPrefix: config.REDIS_KEY_PREFIX,
    budget: {
      publicShare: config.PUBLIC_BUDGET_SHARE,
      publicClientCallsPerMinute: config.PUBLIC_CLIENT_CALLS_PER_MINUTE,
      shopperRereadsPerMinute: config.SHOPPER_REREADS_PER_MINUTE,
    },
  }
}

export interface RechargeStack {
  client: RechargeClient
  queue: RechargeQueue
  store: GcraStore
  /** Who may spend how much of the bucket: the queue charges anonymous calls, shopper records their re-reads. */
  budget: UpstreamBudget
  /** Drains admitted calls, then closes the pool we created. */
  close(drainTimeoutMs?: number): Promise<void>
}

export function createRecharge(options: RechargeOptions): RechargeStack {
  const log = options.log ?? noopLog
  const metrics = options.metrics ?? noopMetrics
  const params = gcraParams({
    capacity: options.bucketSize,
    ratePerSecond: options.leakRate,
    ...(options.safety === undefined ? {} : { safety: options.safety }),
  })
  const keyPrefix = `${options.keyPrefix ?? 'rb'}:{${tokenFingerprint(options.token)}}`
  let store: GcraStore
  if (options.redis) {
    const replicas = Math.max(1, options.expectedReplicas ?? 2)
    const share = gcraParams({
      capacity: Math.max(2, Math.floor(options.bucketSize / 2)),
      ratePerSecond: options.leakRate / replicas,
      ...(options.safety === undefined ? {} : { safety: options.safety }),
    })
    store = new FailoverGcra({
      shared: new RedisGcra({ redis: options.redis, keyPrefix, params }),
      local: new LocalGcra(share),
      log,
      metrics,
    })
  } else {
    store = new LocalGcra(params)
  }
  const locks = options.redis
    ? new RedisAddressLocks({ redis: options.redis, keyPrefix, log })
    : new LocalAddressLocks()
  const budget = new UpstreamBudget({
    store: options.redis
      ? new RedisAllowances({
          redis: options.redis,
          onDegraded: (error) =>
            log.warn(
              { err: { message: (error as Error).message } },
              'budget allowances: redis unavailable, per replica',
            ),
        })
      : new LocalAllowances(),
    keyPrefix,
    settings: { bucketSize: options.bucketSize, leakRate: options.leakRate, ...DEFAULT_BUDGET, ...options.budget },
  })
  const queue = new RechargeQueue({
    store,
    budget,
    locks,
    metrics,
    log,
    lateToleranceMs: lateTolerance(params),
    capacity: options.bucketSize,
  })
  const { dispatcher, close } = createRechargeDispatcher({
    baseUrl: options.baseUrl,
    token: options.token,
    apiVersion: options.apiVersion,
    dispatcher: options.dispatcher,
  })
  const transport = new Transport({ dispatcher, baseUrl: options.baseUrl, queue, log, metrics, tracer: options.tracer })
  return {
    client: createRechargeClient(transport),
    queue,
    store,
    budget,
    async close(drainTimeoutMs) {
      await queue.drain(drainTimeoutMs)
      await close()
    },
  }
}
