import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

interface Received {
  headers: IncomingHttpHeaders
  body: string
}

/** A webhook receiver on an ephemeral port that records every delivery and answers `status`. */
async function startReceiver() {
  const received: Received[] = []
  const waiters: (() => void)[] = []
  const receiver = {
    received,
    status: 200,
    url: '',
    server: null as Server | null,
    next: () => new Promise<void>((resolve) => waiters.push(resolve)),
  }
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') })
      response.writeHead(receiver.status).end()
      waiters.shift()?.()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  receiver.server = server
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`
  return receiver
}

/** Verification written independently of the simulator's signing code, the way a merchant would. */
function verifyLegacy(secret: string, body: string, header: string | undefined): boolean {
  const expected = createHash('sha256')
    .update(secret + body, 'utf8')
    .digest()
  const given = Buffer.from(header ?? '', 'hex')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

function verifyTimestamped(secret: string, body: string, header: string | undefined): boolean {
  const parts = new Map((header ?? '').split(',').map((part) => part.split('=', 2) as [string, string]))
  const t = parts.get('t')
  const v1 = parts.get('v1')
  if (!t || !v1) return false
  const expected = createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest()
  const given = Buffer.from(v1, 'hex')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

let sim: TestSimulator
let receiver: Awaited<ReturnType<typeof startReceiver>>

function api(method: string, path: string, body?: unknown) {
  return sim.api(method, path, body)
}

async function firstActiveSubscriptionId(): Promise<number> {
  const state = await sim.state()
  return (state.subscriptions.find((sub) => sub.status === 'active') as { id: number }).id
}

beforeAll(async () => {
  sim = await startTestSimulator({ webhookAutoDeliver: false, webhookMaxFailures: 3, addressWriteWindowMs: 0 })
  receiver = await startReceiver()
})
afterAll(async () => {
  await sim.close()
  receiver.server?.close()
})
afterEach(async () => {
  await sim.reset()
  receiver.received.length = 0
  receiver.status = 200
})

describe('simulator webhooks', () => {
  it('delivers a state change as the resource envelope, signed with both schemes and a topic header', async () => {
    const created = await api('POST', '/webhooks', { address: receiver.url, topic: 'subscription/cancelled' })
    expect(created.status).toBe(201)
    expect(created.body.webhook).toMatchObject({
      address: receiver.url,
      topic: 'subscription/cancelled',
      version: '2021-11',
    })

    const id = await firstActiveSubscriptionId()
    await api('POST', `/subscriptions/${id}/cancel`, { cancellation_reason: 'moving abroad' })
    const results = await sim.deliverWebhooks()
    expect(results).toEqual([
      expect.objectContaining({ topic: 'subscription/cancelled', status: 200, ok: true, attempt: 1 }),
    ])

    expect(receiver.received).toHaveLength(1)
    const [delivery] = receiver.received as [Received]
    expect(delivery.headers['x-recharge-topic']).toBe('subscription/cancelled')
    expect(verifyLegacy(sim.clientSecret, delivery.body, delivery.headers['x-recharge-hmac-sha256'] as string)).toBe(
      true,
    )
    expect(
      verifyTimestamped(sim.clientSecret, delivery.body, delivery.headers['x-recharge-webhook-signature'] as string),
    ).toBe(true)
    expect(delivery.headers['x-recharge-webhook-signature']).toMatch(
      new RegExp(`^t=${delivery.headers['x-recharge-webhook-timestamp']},v1=[0-9a-f]{64}$`),
    )
    // A different secret or a single changed byte must not verify.
    expect(verifyLegacy('other-secret', delivery.body, delivery.headers['x-recharge-hmac-sha256'] as string)).toBe(
      false,
    )
    expect(
      verifyTimestamped(
        sim.clientSecret,
        `${delivery.body} `,
        delivery.headers['x-recharge-webhook-signature'] as string,
      ),
    ).toBe(false)

    const payload = JSON.parse(delivery.body)
    expect(Object.keys(payload)).toEqual(['subscription'])
    expect(payload.subscription).toMatchObject({ id, status: 'cancelled', cancellation_reason: 'moving abroad' })
    expect(payload).toEqual(await api('GET', `/subscriptions/${id}`).then((response) => response.body))
  })

  it('only delivers topics that are registered', async () => {
    await api('POST', '/webhooks', { address: receiver.url, topic: 'subscription/activated' })
    await api('POST', `/subscriptions/${await firstActiveSubscriptionId()}/cancel`, { cancellation_reason: 'x' })
    expect(await sim.deliverWebhooks()).toEqual([])
    expect(receiver.received).toHaveLength(0)
  })

  it('retries failed deliveries and deletes the webhook after the configured number of failures', async () => {
    receiver.status = 500
    const { body } = await api('POST', '/webhooks', { address: receiver.url, topic: 'customer/updated' })
    const state = await sim.state()
    await api('PUT', `/customers/${state.customers[0]?.id}`, { first_name: 'Changed' })

    const first = await sim.deliverWebhooks()
    const second = await sim.deliverWebhooks()
    const third = await sim.deliverWebhooks()
    expect([...first, ...second, ...third].map((result) => [result.attempt, result.status, result.ok])).toEqual([
      [1, 500, false],
      [2, 500, false],
      [3, 500, false],
    ])
    expect(third[0]?.webhook_deleted).toBe(true)
    expect(receiver.received).toHaveLength(3)
    expect((await api('GET', `/webhooks/${body.webhook.id}`)).status).toBe(404)
    expect(await sim.deliverWebhooks()).toEqual([])
  })

  it('a delivery that succeeds on retry is not sent again', async () => {
    receiver.status = 503
    await api('POST', '/webhooks', { address: receiver.url, topic: 'customer/updated' })
    const state = await sim.state()
    await api('PUT', `/customers/${state.customers[0]?.id}`, { last_name: 'Retry' })
    await sim.deliverWebhooks()
    receiver.status = 200
    expect((await sim.deliverWebhooks()).map((result) => result.ok)).toEqual([true])
    expect(await sim.deliverWebhooks()).toEqual([])
  })

  it('POST /webhooks/{id}/test sends a signed sample of the topic', async () => {
    const { body } = await api('POST', '/webhooks', { address: receiver.url, topic: 'order/created' })
    expect((await api('POST', `/webhooks/${body.webhook.id}/test`)).status).toBe(200)
    await sim.deliverWebhooks()
    const [delivery] = receiver.received as [Received]
    expect(Object.keys(JSON.parse(delivery.body))).toEqual(['order'])
    expect(verifyLegacy(sim.clientSecret, delivery.body, delivery.headers['x-recharge-hmac-sha256'] as string)).toBe(
      true,
    )
  })

  it('validates registrations like Recharge (422 for a bad topic or address)', async () => {
    expect((await api('POST', '/webhooks', { address: receiver.url, topic: 'nope/never' })).status).toBe(422)
    expect((await api('POST', '/webhooks', { address: 'not a url', topic: 'order/created' })).status).toBe(422)
    expect((await api('POST', '/webhooks', {})).body.errors).toHaveProperty('_schema')
  })
})

describe('automatic delivery', () => {
  it('delivers in the background without a flush', async () => {
    const auto = await startTestSimulator({ addressWriteWindowMs: 0 })
    const hook = await startReceiver()
    try {
      const headers = { ...auto.headers, 'content-type': 'application/json' }
      await fetch(`${auto.url}/webhooks`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ address: hook.url, topic: 'subscription/updated' }),
      })
      const state = await auto.state()
      const subscription = state.subscriptions.find((sub) => sub.status === 'active') as { id: number }
      const arrived = hook.next()
      await fetch(`${auto.url}/subscriptions/${subscription.id}`, {
        method: 'PUT',
        headers,
        body: JSON.stringify({ quantity: 5 }),
      })
      await arrived
      expect(JSON.parse(hook.received[0]?.body ?? '{}').subscription).toMatchObject({
        id: subscription.id,
        quantity: 5,
      })
    } finally {
      await auto.close()
      hook.server?.close()
    }
  })
})
