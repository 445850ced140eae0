import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { Worker } from 'node:worker_threads'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { withDeadline } from '../../src/infra/deadline.ts'

class Late extends Error {}

describe('withDeadline', () => {
  // The echo server runs on its own thread: it answers while this one is stalled, as Redis would.
  const echo = new Worker(
    `const { createServer } = require('node:net')
     const { parentPort } = require('node:worker_threads')
     const server = createServer((socket) => socket.pipe(socket))
     server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port))`,
    { eval: true },
  )
  let client: Socket
  beforeAll(async () => {
    const [port] = (await once(echo, 'message')) as [number]
    client = connect(port, '127.0.0.1')
    await once(client, 'connect')
  })
  afterAll(async () => {
    client.destroy()
    await echo.terminate()
  })

  it('rejects with the given error when nothing answers in time, and passes answers and failures through', async () => {
    await expect(withDeadline(new Promise(() => {}), 20, () => new Late())).rejects.toBeInstanceOf(Late)
    await expect(withDeadline(Promise.resolve(7), 20, () => new Late())).resolves.toBe(7)
    await expect(withDeadline(Promise.reject(new TypeError('x')), 20, () => new Late())).rejects.toBeInstanceOf(
      TypeError,
    )
  })

  it('does not fail a reply that arrived during an event-loop stall longer than the deadline', async () => {
    // Run from the check phase, as a server's request handling would: the next loop turn starts with the timers.
    await new Promise((resolve) => setImmediate(resolve))
    const reply = new Promise<string>((resolve) => client.once('data', (chunk) => resolve(chunk.toString())))
    client.write('pong')
    const bounded = withDeadline(reply, 50, () => new Late())
    // The echo arrives within a millisecond or two, but the process is busy for 200 ms: when it looks again, the
    // deadline timer and the waiting reply are both due.
    const until = Date.now() + 200
    while (Date.now() < until) {
      // stalled
    }
    await expect(bounded).resolves.toBe('pong')
  })
})
