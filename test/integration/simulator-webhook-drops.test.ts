import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * Webhook loss (`POST /__sim/webhooks/faults`): a share of the deliveries is dropped as events happen, never sent,
 * and shown as dropped in the delivery log; removing the rule restores delivery. Deliveries are flushed by hand.
 */
let sim: TestSimulator
let server: Server
let receiverUrl = ''
const received: { topic: string; body: string }[] = []

beforeAll(async () => {
  sim = await startTestSimulator({
    webhookAutoDeliver: false,
    addressWriteWindowMs: 0,
    seed: 'webhook-drops-test',
    bucketSize: 10_000,
  })
  server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      received.push({
        topic: String(request.headers['x-recharge-topic']),
        body: Buffer.concat(chunks).toString('utf8'),
      })
      response.writeHead(200).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`
})
afterAll(async () => {
  await sim.close()
  server.close()
})
afterEach(async () => {
  await sim.reset()
  received.length = 0
})

async function subscribe(topic: string): Promise<void> {
  const created = await sim.api('POST', '/webhooks', { address: receiverUrl, topic })
  expect(created.status).toBe(201)
}

async function activeSubscriptionId(): Promise<number> {
  const state = await sim.state()
  return (state.subscriptions.find((sub) => sub.status === 'active') as { id: number }).id
}

/**
 * `times` changes of one subscription, each a `subscription/updated` event (and a `charge/updated` for its queued
 * charge); change n sets the SKU `change-<n>`, so a delivered body tells which change it was.
 */
async function changeQuantity(id: number, times: number): Promise<void> {
  for (let index = 0; index < times; index += 1) {
    const answer = await sim.api('PUT', `/subscriptions/${id}`, { quantity: 1 + (index % 5), sku: `change-${index}` })
    expect(answer.status).toBe(200)
  }
}

function deliveredChanges(): string[] {
  return received
    .filter((delivery) => delivery.topic === 'subscription/updated')
    .map((delivery) => JSON.parse(delivery.body).subscription.sku)
    .sort()
}

async function controlFaults(method: string, body?: unknown) {
  const response = await fetch(`${sim.url}/__sim/webhooks/faults`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: response.status, body: await response.json() }
}

describe('webhook drop rules', () => {
  it('with dropShare 1 delivers nothing and records every lost delivery', async () => {
    await subscribe('subscription/updated')
    await sim.setWebhookFaults([{ dropShare: 1 }])
    const id = await activeSubscriptionId()
    await changeQuantity(id, 5)

    expect(await sim.deliverWebhooks()).toEqual([])
    expect(received).toEqual([])
    const dropped = await sim.webhookDeliveries({ dropped: true })
    expect(dropped).toHaveLength(5)
    for (const entry of dropped) {
      expect(entry).toMatchObject({
        topic: 'subscription/updated',
        address: receiverUrl,
        attempt: 0,
        status: null,
        ok: false,
        dropped: true,
        resource_id: id,
      })
    }
    expect(await sim.webhookDeliveries({ dropped: false })).toEqual([])
    const { body } = await controlFaults('GET')
    expect(body).toEqual({ rules: [{ dropShare: 1, remaining: null, matched: 5, dropped: 5 }], dropped: 5 })
  })

  it('with dropShare 0.5 drops some, delivers the rest, and drops the same ones again for the same events', async () => {
    const run = async () => {
      await subscribe('subscription/updated')
      await sim.setWebhookFaults([{ dropShare: 0.5 }])
      await changeQuantity(await activeSubscriptionId(), 40)
      const delivered = await sim.deliverWebhooks()
      const log = await sim.webhookDeliveries()
      return { delivered, log }
    }
    const first = await run()
    const dropped = first.log.filter((entry) => entry.dropped)
    expect(dropped.length).toBeGreaterThan(0)
    expect(dropped.length).toBeLessThan(40)
    expect(first.delivered).toHaveLength(40 - dropped.length)
    expect(first.delivered.every((entry) => entry.ok && !entry.dropped)).toBe(true)
    expect(received).toHaveLength(40 - dropped.length)
    expect((await controlFaults('GET')).body.dropped).toBe(dropped.length)

    // Same seed, same rule, same events: the same changes are lost.
    const arrived = deliveredChanges()
    expect(new Set(arrived).size).toBe(40 - dropped.length)
    await sim.reset()
    received.length = 0
    const second = await run()
    expect(second.log.filter((entry) => entry.dropped)).toHaveLength(dropped.length)
    expect(deliveredChanges()).toEqual(arrived)
  })

  it('removing the rule restores delivery', async () => {
    await subscribe('subscription/updated')
    const id = await activeSubscriptionId()
    await sim.setWebhookFaults([{ dropShare: 1 }])
    await changeQuantity(id, 2)
    expect(await sim.deliverWebhooks()).toEqual([])

    await sim.clearWebhookFaults()
    expect((await controlFaults('GET')).body).toEqual({ rules: [], dropped: 0 })
    await changeQuantity(id, 3)
    const delivered = await sim.deliverWebhooks()
    expect(delivered.map((entry) => [entry.topic, entry.ok])).toEqual([
      ['subscription/updated', true],
      ['subscription/updated', true],
      ['subscription/updated', true],
    ])
    expect(received).toHaveLength(3)
    expect(JSON.parse(received[0]?.body ?? '{}').subscription.id).toBe(id)
  })

  it('drops only the topics a rule names, and at most `count` deliveries', async () => {
    await subscribe('subscription/updated')
    await subscribe('charge/updated')
    await sim.setWebhookFaults([{ dropShare: 1, topics: ['charge/*'], count: 1 }])
    const id = await activeSubscriptionId()
    await changeQuantity(id, 2) // each change updates the subscription and its queued charge

    const delivered = await sim.deliverWebhooks()
    expect(delivered.filter((entry) => entry.topic === 'subscription/updated')).toHaveLength(2)
    expect(delivered.filter((entry) => entry.topic === 'charge/updated')).toHaveLength(1)
    const dropped = await sim.webhookDeliveries({ dropped: true })
    expect(dropped.map((entry) => entry.topic)).toEqual(['charge/updated'])
    // The rule used up its count and is gone.
    expect((await controlFaults('GET')).body.rules).toEqual([])
  })

  it('lives apart from the request fault rules, is cleared by a reset, and refuses a malformed rule', async () => {
    await sim.setWebhookFaults([{ dropShare: 0.25, topics: ['subscription/updated'] }])
    await sim.setFaults([{ match: { path: '/store' }, status: 503, count: 1 }])
    expect((await sim.api('GET', '/store')).status).toBe(503)
    await sim.clearFaults()
    expect((await controlFaults('GET')).body.rules).toHaveLength(1)
    await sim.reset()
    expect((await controlFaults('GET')).body.rules).toEqual([])

    for (const body of [
      {},
      { rules: [{}] },
      { rules: [{ dropShare: 1.5 }] },
      { rules: [{ dropShare: 0.1, topics: 'charge/*' }] },
      { rules: [{ dropShare: 0.1, count: 0 }] },
    ]) {
      const answer = await controlFaults('POST', body)
      expect(answer.status, JSON.stringify(body)).toBe(400)
      expect(answer.body.error).toEqual(expect.any(String))
    }
  })
})
