import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestSimulator } from './simulator.ts'

export interface ReceivedWebhook {
  topic: string
  // biome-ignore lint/suspicious/noExplicitAny: a Recharge webhook body; each test asserts the fields it relies on
  body: any
}

/**
 * A webhook receiver for simulator tests: registers itself on the simulator for the given topics and, on
 * `collect()`, flushes the simulator's pending deliveries and returns what arrived (oldest first) since the last call.
 * Start the simulator with `webhookAutoDeliver: false` so deliveries only happen on `collect()`.
 */
export async function startWebhookSink(sim: TestSimulator) {
  let received: ReceivedWebhook[] = []
  const server = createServer((request, response) => {
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
    /** Registers the sink for each topic (call again after a simulator reset: reset drops webhooks). */
    async subscribe(topics: string[]): Promise<void> {
      for (const topic of topics) {
        const created = await sim.api('POST', '/webhooks', { address: url, topic })
        if (created.status !== 201) throw new Error(`webhook ${topic}: ${created.status}`)
      }
    },
    async collect(): Promise<ReceivedWebhook[]> {
      await sim.deliverWebhooks()
      const batch = received
      received = []
      return batch
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
