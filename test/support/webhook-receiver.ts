import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestSimulator } from './simulator.ts'

export interface ReceivedWebhook {
  topic: string
  // biome-ignore lint/suspicious/noExplicitAny: a Recharge resource envelope; each test asserts the fields it needs
  body: any
}

/**
 * A webhook endpoint on an ephemeral port that keeps every delivery it gets. `subscribe(sim, topics)` registers it
 * with the simulator; `flush(sim)` delivers everything pending and answers the deliveries received since the last
 * flush (start the simulator with `webhookAutoDeliver: false`).
 */
export interface WebhookReceiver {
  url: string
  subscribe(sim: TestSimulator, topics: string[]): Promise<void>
  flush(sim: TestSimulator): Promise<ReceivedWebhook[]>
  close(): Promise<void>
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  let received: ReceivedWebhook[] = []
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      received.push({
        topic: String(request.headers['x-recharge-topic']),
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      })
      response.writeHead(200).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`
  return {
    url,
    async subscribe(sim, topics) {
      for (const topic of topics) {
        const { status } = await sim.api('POST', '/webhooks', { address: url, topic })
        if (status !== 201 && status !== 200) throw new Error(`webhook registration for ${topic} → ${status}`)
      }
    },
    async flush(sim) {
      await sim.deliverWebhooks()
      const batch = received
      received = []
      return batch
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
