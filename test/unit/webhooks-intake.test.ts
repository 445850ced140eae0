import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { AppError } from '../../src/errors.ts'
import { Metrics } from '../../src/infra/metrics/registry.ts'
import { acceptDelivery, deliveryHash } from '../../src/webhooks/intake.ts'
import { webhookMetrics } from '../../src/webhooks/metrics.ts'
import type { JobQueue } from '../../src/webhooks/queue/types.ts'

const secret = 'unit_whsec_0123456789'
const body = Buffer.from(`{"charge":{"id":5,"customer":{"id":7},"updated_at":"${new Date().toISOString()}"}}`)
const signed = { 'x-recharge-hmac-sha256': createHash('sha256').update(secret).update(body).digest('hex') }

function fakeQueue(failures: number) {
  const enqueued: Record<string, string>[] = []
  let calls = 0
  const queue: JobQueue = {
    kind: 'memory',
    async enqueue(fields) {
      calls++
      if (calls <= failures) throw new Error('redis timeout')
      enqueued.push(fields)
      return `job-${calls}`
    },
    async start() {},
    async stop() {},
    async pending() {
      return enqueued.length
    },
  }
  return { queue, enqueued, calls: () => calls }
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof AppError) return error
    throw error
  }
  throw new Error('expected a rejection')
}

describe('acceptDelivery', () => {
  it('stores the verified delivery with its topic, resource and a dedupe hash of the body alone', async () => {
    const { queue, enqueued } = fakeQueue(0)
    const metrics = webhookMetrics(new Metrics())
    const accepted = await acceptDelivery(
      { secret, queue, metrics },
      { rawBody: body, headers: signed, urlTopic: 'charge/paid' },
    )
    expect(accepted).toEqual({ topic: 'charge/paid', resource: 'charge', jobId: 'job-1', mismatch: false })
    expect(enqueued[0]).toMatchObject({
      topic: 'charge/paid',
      resource: 'charge',
      hash: deliveryHash(body),
      body: body.toString(),
      scheme: 'legacy',
    })
    // No signature covers the topic, so the same body under another topic is the same delivery.
    const again = await acceptDelivery(
      { secret, queue, metrics },
      { rawBody: body, headers: signed, urlTopic: 'charge/updated' },
    )
    expect(again.topic).toBe('charge/updated')
    expect(enqueued[1]?.hash).toBe(enqueued[0]?.hash)
  })

  it('retries the append once (a timed-out append that landed is harmless: the hash dedupes it)', async () => {
    const once = fakeQueue(1)
    const metrics = webhookMetrics(new Metrics())
    await acceptDelivery(
      { secret, queue: once.queue, metrics },
      { rawBody: body, headers: signed, urlTopic: undefined },
    )
    expect(once.calls()).toBe(2)

    const twice = fakeQueue(2)
    const error = await rejection(
      acceptDelivery({ secret, queue: twice.queue, metrics }, { rawBody: body, headers: signed, urlTopic: undefined }),
    )
    expect(error.code).toBe('SERVICE_UNAVAILABLE')
    expect(error.retryAfter).toBe(5)
  })

  it('refuses everything without a secret, and unsigned deliveries with one', async () => {
    const { queue, enqueued } = fakeQueue(0)
    const metrics = webhookMetrics(new Metrics())
    const unconfigured = await rejection(
      acceptDelivery({ secret: undefined, queue, metrics }, { rawBody: body, headers: signed, urlTopic: undefined }),
    )
    expect(unconfigured.code).toBe('SERVICE_UNAVAILABLE')
    const unsigned = await rejection(
      acceptDelivery({ secret, queue, metrics }, { rawBody: body, headers: {}, urlTopic: undefined }),
    )
    expect(unsigned.code).toBe('UNAUTHENTICATED')
    expect(enqueued).toHaveLength(0)
  })

  it('flags a registration topic that disagrees with the payload', async () => {
    const { queue } = fakeQueue(0)
    const metrics = webhookMetrics(new Metrics())
    const accepted = await acceptDelivery(
      { secret, queue, metrics },
      { rawBody: body, headers: { ...signed, 'x-recharge-topic': 'charge/paid' }, urlTopic: 'subscription/updated' },
    )
    expect(accepted).toMatchObject({ topic: 'subscription/updated', resource: 'charge', mismatch: true })
  })
})
