import type { FastifyBaseLogger } from 'fastify'
import { bridgeEvent, recordRef, tagsFor } from './event.ts'
import { resourceLabel, type WebhookMetrics } from './metrics.ts'
import type { Job, JobHandler, JobQueue } from './queue/types.ts'
import { DEDUPE_TTL_MS, type EventStore } from './store.ts'

/** Fields of an intake job (one verified delivery). */
export interface DeliveryFields {
  topic: string
  resource: string
  /** sha256(raw body), hex: the dedupe key and the forwarded event id. */
  hash: string
  body: string
  scheme: string
  /** Epoch ms until which this body must stay a duplicate (absent on jobs queued by older versions). */
  dedupeUntil?: string
}

export interface ProcessorOptions {
  store: EventStore
  /** app.cache.invalidateTags, or null when no cache is configured. */
  invalidateTags: ((tags: readonly string[]) => Promise<void>) | null
  /** Where normalised events go for WEBHOOK_FORWARD_URL, or null when forwarding is off. */
  forwardQueue: JobQueue | null
  metrics: WebhookMetrics
  log: FastifyBaseLogger
  /** The intake queue's maxAttempts: on the last failed attempt the dedupe claim is released. */
  maxAttempts: number
  /**
   * State the bridge keeps beside the cache, for the topics in `topics` (a subscription/paused records the pause,
   * src/shopper/pause.ts). Runs before the dedupe claim and the ordering guard: Recharge sends subscription/updated
   * and subscription/paused with the same body, so the second is a "duplicate" of the first by content, yet only its
   * topic says "paused". The account mirror (src/mirror) applies its records here too. The handler must be idempotent.
   */
  onEvent?:
    | {
        topics: ReadonlySet<string>
        handle: (topic: string, record: Record<string, unknown>, delivery: EventDelivery) => Promise<void>
      }
    | undefined
  /** Test hook: runs before each job (the crash test blocks here). */
  beforeProcess?: ((job: Job) => Promise<void>) | undefined
}

/** What an onEvent handler may want of the delivery beside its record. */
export interface EventDelivery {
  resource: string
  /** When the bridge acknowledged the delivery (epoch ms). */
  receivedAt: number
}

/** The dedupe key's lifetime for this job: at least DEDUPE_TTL_MS, longer when the intake asked for it. */
function dedupeTtl(fields: DeliveryFields): number {
  const until = Number(fields.dedupeUntil)
  return Number.isFinite(until) ? Math.max(DEDUPE_TTL_MS, until - Date.now()) : DEDUPE_TTL_MS
}

function eventId(hash: string): string {
  return `evt_${hash.slice(0, 32)}`
}

/**
 * Process one acknowledged delivery: once per content (dedupe claim), in record order (a delivery older than a
 * version already seen does not touch caches), then invalidate the record's cache tags and queue the forward.
 * Throwing leaves the job to be retried by the queue.
 */
export function createDeliveryHandler(options: ProcessorOptions): JobHandler {
  const { store, metrics, log } = options
  return async (job) => {
    await options.beforeProcess?.(job)
    const fields = job.fields as unknown as DeliveryFields
    const ttlMs = dedupeTtl(fields)
    if (options.onEvent?.topics.has(fields.topic)) {
      const payload = JSON.parse(fields.body) as Record<string, unknown>
      const record = payload[fields.resource]
      if (typeof record === 'object' && record !== null) {
        await options.onEvent.handle(fields.topic, record as Record<string, unknown>, {
          resource: fields.resource,
          receivedAt: job.enqueuedAt,
        })
      }
    }
    if ((await store.claim(fields.hash, job.id, ttlMs)) === 'duplicate') {
      metrics.deduplicated.inc()
      log.debug({ topic: fields.topic, jobId: job.id }, 'webhook duplicate skipped')
      return
    }
    try {
      const payload = JSON.parse(fields.body) as Record<string, unknown>
      const record = (payload[fields.resource] ?? {}) as Record<string, unknown>
      const ref = recordRef(fields.resource, record)
      const freshness = ref ? await store.observe(ref) : 'fresh'
      if (freshness === 'fresh') {
        const tags = tagsFor(fields.resource, record)
        if (tags.length > 0 && options.invalidateTags) await options.invalidateTags(tags)
      } else {
        metrics.superseded.inc()
        log.info({ topic: fields.topic, resource: fields.resource, id: ref?.id }, 'webhook older than seen version')
      }
      if (options.forwardQueue) {
        const event = bridgeEvent({
          id: eventId(fields.hash),
          topic: fields.topic,
          resource: fields.resource,
          record,
          receivedAt: job.enqueuedAt,
          superseded: freshness === 'stale',
        })
        await options.forwardQueue.enqueue({ event: JSON.stringify(event) })
      }
      await store.complete(fields.hash, ttlMs)
      metrics.processed.inc({ resource: resourceLabel(fields.resource) })
      metrics.lag.observe(Math.max(0, Date.now() - job.enqueuedAt) / 1000)
    } catch (error) {
      metrics.failed.inc({ stage: 'process' })
      log.warn({ err: error, topic: fields.topic, jobId: job.id, attempt: job.attempt }, 'webhook processing failed')
      if (job.attempt >= options.maxAttempts) await store.release(fields.hash, job.id).catch(() => {})
      throw error
    }
  }
}
