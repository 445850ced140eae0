import { createHash } from 'node:crypto'
import { AppError } from '../errors.ts'
import { parseTimestamp } from './event.ts'
import { resourceLabel, type WebhookMetrics } from './metrics.ts'
import type { DeliveryFields } from './processor.ts'
import type { JobQueue } from './queue/types.ts'
import { SIGNATURE_TOLERANCE_SECONDS, signatureHeaders, verifyRechargeSignature } from './signature.ts'
import { DEDUPE_TTL_MS } from './store.ts'
import { isTopic, resolveTopic } from './topics.ts'

export interface IntakeOptions {
  secret: string | undefined
  queue: JobQueue
  metrics: WebhookMetrics
  /** Epoch ms; injectable so tests can replay a delivery days later. */
  now?: () => number
}

/**
 * A legacy-signed delivery carries no signed timestamp, so its record's `updated_at` (inside the signed body) stands
 * in for one: older than this, the delivery is a replay (Recharge retries for 48 h; the rest is clock slack).
 */
export const LEGACY_MAX_AGE_MS = 72 * 60 * 60 * 1000
/** How far a v1 signature's timestamp may lie from now (SIGNATURE_TOLERANCE_SECONDS), in ms. */
const V1_MAX_AGE_MS = SIGNATURE_TOLERANCE_SECONDS * 1000

export interface IntakeRequest {
  rawBody: Buffer
  headers: Record<string, string | string[] | undefined>
  /** `?topic=` of the registration URL. */
  urlTopic: string | undefined
}

export interface Accepted {
  topic: string
  resource: string
  jobId: string
  mismatch: boolean
}

/**
 * sha256(raw body): the dedupe key. Only the body is signed, never the `?topic=` or a topic header, so the key leaves
 * the topic out: the same signed body re-posted under another topic is the same delivery.
 */
export function deliveryHash(rawBody: Buffer): string {
  return createHash('sha256').update(rawBody).digest('hex')
}

function recordUpdatedAt(payload: unknown, resource: string | undefined): number | null {
  if (!resource || typeof payload !== 'object' || payload === null) return null
  const record = (payload as Record<string, unknown>)[resource]
  if (typeof record !== 'object' || record === null) return null
  return parseTimestamp((record as Record<string, unknown>).updated_at)
}

function header(headers: IntakeRequest['headers'], name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

/**
 * The acknowledgement path: verify the signature on the raw bytes, resolve the topic, persist the delivery, answer.
 * Nothing else happens before the 200: processing runs from the queue.
 */
export async function acceptDelivery(options: IntakeOptions, request: IntakeRequest): Promise<Accepted> {
  const { metrics } = options
  if (!options.secret) {
    metrics.rejected.inc({ reason: 'unconfigured' })
    throw new AppError('SERVICE_UNAVAILABLE', {
      detail: 'Webhook intake is not configured (RECHARGE_WEBHOOK_SECRET is unset); deliveries are refused',
      retryAfter: 60,
    })
  }
  const now = (options.now ?? Date.now)()
  const verdict = verifyRechargeSignature(
    request.rawBody,
    signatureHeaders(request.headers),
    options.secret,
    Math.floor(now / 1000),
  )
  if (!verdict.ok) {
    metrics.rejected.inc({ reason: verdict.reason })
    // Deliberately vague: which part failed would help a forger.
    throw new AppError('UNAUTHENTICATED', { detail: 'The webhook signature is missing or invalid' })
  }

  let payload: unknown
  try {
    payload = JSON.parse(request.rawBody.toString('utf8'))
  } catch {
    metrics.rejected.inc({ reason: 'invalid_json' })
    throw new AppError('BAD_REQUEST', { detail: 'The webhook body is not JSON' })
  }
  const headerTopic = header(request.headers, 'x-recharge-topic')
  const resolved = resolveTopic(payload, request.urlTopic, headerTopic)
  // A signed payload without a resource object (app/uninstalled…) is still Recharge's: keep it for forwarding.
  const named = isTopic(request.urlTopic) ? request.urlTopic : isTopic(headerTopic) ? headerTopic : 'unknown/unknown'
  const topic = resolved?.topic ?? named
  const resource = resolved?.resource ?? 'unknown'

  // Until when a replay of this body could still verify; the dedupe key must outlive it.
  let replayableUntil: number
  if (verdict.scheme === 'v1') {
    replayableUntil = (verdict.timestamp ?? 0) * 1000 + V1_MAX_AGE_MS
  } else {
    const updatedAt = recordUpdatedAt(payload, resolved?.resource)
    if (updatedAt === null || now - updatedAt > LEGACY_MAX_AGE_MS) {
      metrics.rejected.inc({ reason: 'expired' })
      throw new AppError('UNAUTHENTICATED', { detail: 'The webhook signature is missing or invalid' })
    }
    replayableUntil = updatedAt + LEGACY_MAX_AGE_MS
  }

  const fields: DeliveryFields = {
    topic,
    resource,
    hash: deliveryHash(request.rawBody),
    body: request.rawBody.toString('utf8'),
    scheme: verdict.scheme,
    dedupeUntil: String(Math.max(now + DEDUPE_TTL_MS, replayableUntil)),
  }
  let jobId: string
  try {
    jobId = await options.queue.enqueue(fields as unknown as Record<string, string>)
  } catch {
    try {
      // One immediate retry: if the first append did land after all, the dedupe key makes the copy harmless.
      jobId = await options.queue.enqueue(fields as unknown as Record<string, string>)
    } catch (error) {
      metrics.rejected.inc({ reason: 'queue_unavailable' })
      // Not acknowledged: Recharge redelivers, which is the durable outcome when we cannot persist.
      throw new AppError('SERVICE_UNAVAILABLE', {
        detail: 'The delivery could not be stored; retry',
        retryAfter: 5,
        cause: error,
      })
    }
  }
  metrics.received.inc({ resource: resourceLabel(resource) })
  return { topic, resource, jobId, mismatch: resolved?.mismatch ?? false }
}
