import { createHash } from 'node:crypto'
import { AppError } from '../errors.ts'
import { resourceLabel, type WebhookMetrics } from './metrics.ts'
import type { DeliveryFields } from './processor.ts'
import type { JobQueue } from './queue/types.ts'
import { signatureHeaders, verifyRechargeSignature } from './signature.ts'
import { isTopic, resolveTopic } from './topics.ts'

export interface IntakeOptions {
  secret: string | undefined
  queue: JobQueue
  metrics: WebhookMetrics
}

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

/** sha256(topic + "\n" + raw body): the same delivery redelivered hashes the same; the dedupe key. */
export function deliveryHash(topic: string, rawBody: Buffer): string {
  return createHash('sha256').update(topic).update('\n').update(rawBody).digest('hex')
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
  const verdict = verifyRechargeSignature(request.rawBody, signatureHeaders(request.headers), options.secret)
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

  const fields: DeliveryFields = {
    topic,
    resource,
    hash: deliveryHash(topic, request.rawBody),
    body: request.rawBody.toString('utf8'),
    scheme: verdict.scheme,
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
