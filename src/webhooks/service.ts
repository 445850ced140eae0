import type { FastifyInstance } from 'fastify'
import type { Dispatcher } from 'undici'
import { closeRedisClient, createBlockingRedisClient, type RedisClient } from '../infra/redis.ts'
import type { WebhooksResource } from '../recharge/resources/webhooks.ts'
import { createForwardHandler } from './forwarder.ts'
import { type Accepted, acceptDelivery, type IntakeRequest } from './intake.ts'
import { type WebhookMetrics, webhookMetrics } from './metrics.ts'
import { createDeliveryHandler, type ProcessorOptions } from './processor.ts'
import { MemoryQueue } from './queue/memory.ts'
import { RedisStreamQueue } from './queue/redis-stream.ts'
import type { Job, JobQueue, QueueTuning } from './queue/types.ts'
import { type EventStore, MemoryEventStore, RedisEventStore } from './store.ts'
import { NEEDED_TOPICS } from './topics.ts'
import { RegistrationWatchdog } from './watchdog.ts'

/** The topics whose payload the account mirror applies. */
function mirrorTopic(topic: string): boolean {
  return /^(customer|address|subscription|charge|onetime)\//.test(topic)
}

/** Knobs tests and embedders may set through `buildApp(config, { webhooks: … })`. */
export interface WebhookTuning {
  /** Redis key prefix of the streams, dedupe and version keys. Default `<REDIS_KEY_PREFIX>:webhooks`. */
  keyPrefix?: string
  /** Idle time after which a failed or orphaned job is retried. Default 30 s. */
  retryAfterMs?: number
  /** XREADGROUP block time (also the longest an idle consumer delays shutdown). Default 1 s. */
  blockMs?: number
  /** Attempts before dead-lettering. Default 8. */
  maxAttempts?: number
  /** Run the registration watchdog. Default: a secret is set, background workers run and NODE_ENV is not test. */
  watchdog?: boolean
  watchdogIntervalMs?: number
  /** Delay of the first check after start. Default 1 s. */
  watchdogFirstDelayMs?: number
  /** Test hook run before each delivery is processed. */
  beforeProcess?: (job: Job) => Promise<void>
  forwardDispatcher?: Dispatcher
  /** The intake's clock (epoch ms) for signature windows; tests replay deliveries days later with it. */
  now?: () => number
}

declare module '../app.ts' {
  interface AppDeps {
    webhooks?: WebhookTuning
  }
}

/** What the webhook routes and the CLI use. */
export class WebhookService {
  readonly metrics: WebhookMetrics
  readonly store: EventStore
  readonly intakeQueue: JobQueue
  readonly forwardQueue: JobQueue | null
  readonly watchdog: RegistrationWatchdog | null
  readonly publicUrl: string
  private readonly app: FastifyInstance
  private readonly tuning: WebhookTuning
  private pendingTimer: NodeJS.Timeout | null = null
  /** The consumers' connection for dedupe/version keys, so their commands never queue ahead of intake appends. */
  private workerClient: RedisClient | null = null

  constructor(app: FastifyInstance, tuning: WebhookTuning = {}) {
    this.app = app
    this.tuning = tuning
    this.metrics = webhookMetrics(app.metrics)
    this.publicUrl = app.config.PUBLIC_URL
    const prefix = tuning.keyPrefix ?? `${app.config.REDIS_KEY_PREFIX}:webhooks`
    const redis = app.redis
    this.store = redis ? new RedisEventStore(redis, prefix) : new MemoryEventStore()
    const base = {
      maxAttempts: tuning.maxAttempts ?? 8,
      retryAfterMs: tuning.retryAfterMs ?? 30_000,
      // Well inside the shutdown grace, which the HTTP server, the watchdog and the Redis clients share: a job still in
      // hand after it stays pending and is reclaimed by another consumer (or this one after a restart), whereas a
      // drain that outlasts the grace gets the process killed (exit 1) with every in-flight request.
      drainMs: Math.max(500, Math.min(Math.floor(app.config.SHUTDOWN_GRACE_MS * 0.4), 10_000)),
      onError: (error: unknown) => app.log.debug({ err: error }, 'webhook queue error'),
    }
    this.intakeQueue = this.createQueue(redis, `${prefix}:deliveries`, {
      ...base,
      batchSize: 16,
      onDeadLetter: ({ job, error }) => {
        this.metrics.deadLettered.inc({ stage: 'process' })
        app.log.error({ jobId: job.id, topic: job.fields.topic, error }, 'webhook delivery dead-lettered')
      },
    })
    const { WEBHOOK_FORWARD_URL: forwardUrl, WEBHOOK_FORWARD_SECRET: forwardSecret } = app.config
    this.forwardQueue =
      forwardUrl && forwardSecret
        ? this.createQueue(redis, `${prefix}:forward`, {
            ...base,
            batchSize: 8,
            onDeadLetter: ({ job, error }) => {
              this.metrics.deadLettered.inc({ stage: 'forward' })
              app.log.error({ jobId: job.id, error }, 'webhook forward dead-lettered')
            },
          })
        : null
    if (forwardUrl && !forwardSecret)
      app.log.warn('WEBHOOK_FORWARD_URL is set without WEBHOOK_FORWARD_SECRET: not forwarding')

    const webhooks = this.rechargeWebhooks()
    const watch =
      tuning.watchdog ??
      (Boolean(app.config.RECHARGE_WEBHOOK_SECRET) &&
        app.config.NODE_ENV !== 'test' &&
        app.deps.backgroundWorkers !== false)
    this.watchdog =
      watch && webhooks
        ? new RegistrationWatchdog({
            webhooks,
            publicUrl: this.publicUrl,
            intervalMs: tuning.watchdogIntervalMs ?? 10 * 60_000,
            metrics: this.metrics,
            log: app.log.child({ component: 'webhook-watchdog' }),
            redis,
            keyPrefix: prefix,
          })
        : null
  }

  /** A connection to the app's Redis for blocking reads and worker commands (owned by whoever asked for it). */
  private connection(redis: RedisClient, name: string): RedisClient {
    const topology = this.app.config.redis
    return topology
      ? createBlockingRedisClient(topology, name)
      : // An injected client without REDIS_URL: same server, a longer command timeout for blocking reads.
        (redis.duplicate({ commandOptions: { timeout: 10_000 } }) as RedisClient)
  }

  private createQueue(redis: RedisClient | null, stream: string, tuning: QueueTuning): JobQueue {
    if (!redis) return new MemoryQueue(tuning)
    return new RedisStreamQueue({
      ...tuning,
      redis,
      createBlockingClient: () => this.connection(redis, 'recharge-bridge-webhooks'),
      stream,
      deadLetterStream: `${stream}:dead`,
      group: 'recharge-bridge',
      maxLen: 100_000,
      blockMs: this.tuning.blockMs ?? 1_000,
    })
  }

  /** The Recharge webhooks resource (`app.recharge.webhooks`); null where no client is configured. */
  rechargeWebhooks(): WebhooksResource | null {
    return this.app.hasDecorator('recharge') ? this.app.recharge.webhooks : null
  }

  accept(request: IntakeRequest): Promise<Accepted> {
    return acceptDelivery(
      {
        secret: this.app.config.RECHARGE_WEBHOOK_SECRET,
        queue: this.intakeQueue,
        metrics: this.metrics,
        ...(this.tuning.now ? { now: this.tuning.now } : {}),
      },
      request,
    )
  }

  /** Start the consumers (and the watchdog). */
  async start(): Promise<void> {
    const app = this.app
    if (app.redis && this.store instanceof RedisEventStore) {
      const worker = this.connection(app.redis, 'recharge-bridge-webhook-worker')
      worker.on('error', (error: unknown) => app.log.debug({ err: error }, 'webhook worker redis error'))
      // Not awaited: with Redis down at start-up the app still starts; processing retries until it is back.
      worker.connect().catch((error: unknown) => app.log.debug({ err: error }, 'webhook worker redis connect failed'))
      this.workerClient = worker
      this.store.useClient(worker)
    }
    const invalidate = app.hasDecorator('cache') ? (tags: readonly string[]) => app.cache.invalidateTags(tags) : null
    await this.intakeQueue.start(
      createDeliveryHandler({
        store: this.store,
        invalidateTags: invalidate,
        forwardQueue: this.forwardQueue,
        metrics: this.metrics,
        log: app.log.child({ component: 'webhooks' }),
        maxAttempts: this.tuning.maxAttempts ?? 8,
        beforeProcess: this.tuning.beforeProcess,
        onEvent: this.eventHandlers(),
      }),
    )
    const { WEBHOOK_FORWARD_URL: url, WEBHOOK_FORWARD_SECRET: secret } = app.config
    if (this.forwardQueue && url && secret) {
      await this.forwardQueue.start(
        createForwardHandler({
          url,
          secret,
          metrics: this.metrics,
          log: app.log.child({ component: 'webhook-forwarder' }),
          ...(this.tuning.forwardDispatcher ? { dispatcher: this.tuning.forwardDispatcher } : {}),
        }),
      )
    }
    this.watchdog?.start(this.tuning.watchdogFirstDelayMs ?? 1_000)
    this.pendingTimer = setInterval(() => void this.refreshPending(), 10_000)
    this.pendingTimer.unref()
  }

  /**
   * State kept beside the cache from event payloads: the pause record (subscription/paused) and, with MIRROR=on, the
   * account mirror (every customer, address, subscription, charge and onetime topic).
   */
  private eventHandlers(): ProcessorOptions['onEvent'] {
    const app = this.app
    const pauses = app.hasDecorator('shopperServices') ? app.shopperServices.pauses : null
    const mirror = app.hasDecorator('mirror') ? app.mirror : null
    if (!pauses && !mirror) return undefined
    const topics = new Set<string>(pauses ? ['subscription/paused'] : [])
    if (mirror) for (const topic of NEEDED_TOPICS) if (mirrorTopic(topic)) topics.add(topic)
    return {
      topics,
      handle: async (topic, record, delivery) => {
        if (pauses && topic === 'subscription/paused') await pauses.observe(topic, record)
        if (mirror && mirrorTopic(topic)) await mirror.applyEvent(topic, delivery.resource, record, delivery.receivedAt)
      },
    }
  }

  async refreshPending(): Promise<void> {
    try {
      this.metrics.pending.set({ stage: 'process' }, await this.intakeQueue.pending())
      if (this.forwardQueue) this.metrics.pending.set({ stage: 'forward' }, await this.forwardQueue.pending())
    } catch {
      // Redis down: the gauge keeps its last value.
    }
  }

  /** Stop taking work, finish what is in hand. */
  async stop(): Promise<void> {
    if (this.pendingTimer) clearInterval(this.pendingTimer)
    // Side by side: each one's drain is bounded, and their sum must stay inside the shutdown grace.
    await Promise.all([this.watchdog?.stop(), this.intakeQueue.stop(), this.forwardQueue?.stop()])
    const worker = this.workerClient
    this.workerClient = null
    if (worker) await closeRedisClient(worker)
  }
}
