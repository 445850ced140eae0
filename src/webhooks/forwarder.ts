import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyBaseLogger } from 'fastify'
import { type Dispatcher, request } from 'undici'
import type { WebhookMetrics } from './metrics.ts'
import type { JobHandler } from './queue/types.ts'
import { signBridgeEvent } from './signature.ts'

export const FORWARD_SIGNATURE_HEADER = 'x-bridge-signature'

export interface ForwarderOptions {
  url: string
  secret: string
  metrics: WebhookMetrics
  log: FastifyBaseLogger
  /** Tries within one job attempt before the job is left for the queue's later retry. */
  quickTries?: number
  timeoutMs?: number
  dispatcher?: Dispatcher
}

class ForwardFailed extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ForwardFailed'
  }
}

/**
 * Deliver a normalised event to the merchant's endpoint, signed `X-Bridge-Signature: t=…,v1=<hex HMAC-SHA256 of
 * "<t>.<body>">` (verify it exactly like a Recharge v1 signature). A few quick tries with jittered backoff, then the
 * job fails and the queue retries it later; after the queue's last attempt it lands in the dead-letter stream.
 * Delivery is at least once: the event `id` is stable, so the receiver can drop repeats.
 */
export function createForwardHandler(options: ForwarderOptions): JobHandler {
  const quickTries = options.quickTries ?? 3
  const timeoutMs = options.timeoutMs ?? 5_000
  return async (job) => {
    const body = job.fields.event ?? '{}'
    const { id, topic } = JSON.parse(body) as { id?: string; topic?: string }
    let lastError = 'not attempted'
    for (let attempt = 0; attempt < quickTries; attempt++) {
      if (attempt > 0) await sleep(200 * 4 ** (attempt - 1) * (0.5 + Math.random() / 2))
      try {
        const response = await request(options.url, {
          method: 'POST',
          body,
          headers: {
            'content-type': 'application/json',
            [FORWARD_SIGNATURE_HEADER]: signBridgeEvent(options.secret, body),
            // Convenience copies of body fields (route or dedupe before parsing); the signed body is authoritative.
            'x-bridge-event-id': id ?? '',
            'x-bridge-topic': topic ?? '',
            'user-agent': 'recharge-bridge-forwarder',
          },
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
          ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
        })
        await response.body.dump()
        if (response.statusCode >= 200 && response.statusCode < 300) {
          options.metrics.forwarded.inc()
          return
        }
        lastError = `forward target answered ${response.statusCode}`
      } catch (error) {
        lastError = `forward request failed: ${error instanceof Error ? error.message : String(error)}`
      }
    }
    options.metrics.failed.inc({ stage: 'forward' })
    options.log.warn({ jobId: job.id, attempt: job.attempt, reason: lastError }, 'webhook forward failed')
    throw new ForwardFailed(lastError)
  }
}
