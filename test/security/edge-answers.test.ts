import { connect, type Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { testConfig } from '../support/config.ts'

/**
 * Answers written before any route runs (Node's parser refusing a request) or while the server shuts down, read off
 * a real socket: each is problem+json with a stable code, like every other error, so clients and logs parse it.
 */

let app: FastifyInstance | undefined

afterEach(async () => {
  await app?.close()
  app = undefined
})

async function start(extra?: (app: FastifyInstance) => void): Promise<number> {
  app = await buildApp(testConfig({ RECHARGE_API_TOKEN: 'sk_test_edges', RECHARGE_API_URL: 'http://127.0.0.1:9' }), {
    redis: null,
    backgroundWorkers: false,
  })
  extra?.(app)
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  return Number(new URL(address).port)
}

interface RawResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/** Split raw HTTP/1.1 bytes into responses (Content-Length framed, which is all these answers use). */
function parseResponses(raw: string): RawResponse[] {
  const responses: RawResponse[] = []
  let rest = raw
  while (rest.length > 0) {
    const headEnd = rest.indexOf('\r\n\r\n')
    if (headEnd === -1) break
    const [statusLine = '', ...lines] = rest.slice(0, headEnd).split('\r\n')
    const headers: Record<string, string> = {}
    for (const line of lines) {
      const colon = line.indexOf(':')
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
    }
    const length = Number(headers['content-length'] ?? 0)
    const bodyStart = headEnd + 4
    responses.push({
      status: Number(statusLine.split(' ')[1]),
      headers,
      body: rest.slice(bodyStart, bodyStart + length),
    })
    rest = rest.slice(bodyStart + length)
  }
  return responses
}

function openSocket(port: number): Promise<{ socket: Socket; received: () => string; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let data = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      data += chunk
    })
    const ended = new Promise<void>((done) => socket.on('close', () => done()))
    socket.once('error', reject)
    socket.once('connect', () => resolve({ socket, received: () => data, ended }))
  })
}

/** Send raw bytes on a fresh connection and read until the server closes it. */
async function exchange(port: number, raw: string): Promise<RawResponse[]> {
  const connection = await openSocket(port)
  connection.socket.on('error', () => {})
  connection.socket.write(raw)
  await connection.ended
  return parseResponses(connection.received())
}

function expectProblem(response: RawResponse | undefined, status: number, code: string) {
  expect(response?.status).toBe(status)
  expect(response?.headers['content-type']).toBe('application/problem+json; charset=utf-8')
  expect(JSON.parse(response?.body ?? '{}')).toMatchObject({ status, code })
}

describe('answers written outside the routes are problem+json on the wire', () => {
  it('a request line longer than the header limit gets 414 URI_TOO_LONG', async () => {
    const port = await start()
    const responses = await exchange(
      port,
      `GET /v1/catalog/products?q=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: bridge\r\n\r\n`,
    )
    expect(responses).toHaveLength(1)
    expectProblem(responses[0], 414, 'URI_TOO_LONG')
  })

  it('headers larger than the limit get 431 HEADERS_TOO_LARGE', async () => {
    const port = await start()
    const responses = await exchange(
      port,
      `GET /healthz HTTP/1.1\r\nHost: bridge\r\nCookie: ${'y'.repeat(20_000)}\r\n\r\n`,
    )
    expect(responses).toHaveLength(1)
    expectProblem(responses[0], 431, 'HEADERS_TOO_LARGE')
  })

  it('a request arriving on an open connection while the server shuts down gets 503 with Retry-After', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    let closingStarted: () => void = () => {}
    const closing = new Promise<void>((resolve) => {
      closingStarted = resolve
    })
    let entered: () => void = () => {}
    const inFlight = new Promise<void>((resolve) => {
      entered = resolve
    })
    let requestsSeen = 0
    const port = await start((instance) => {
      instance.server.on('request', () => {
        requestsSeen++
      })
      // A request still in flight keeps the connection (and the shutdown) open.
      instance.get('/test/slow', async () => {
        entered()
        await gate
        return { ok: true }
      })
      // Registered last, so it runs after the server stopped taking new work.
      instance.addHook('preClose', async () => closingStarted())
    })
    const connection = await openSocket(port)
    connection.socket.write('GET /test/slow HTTP/1.1\r\nHost: bridge\r\n\r\n')
    await inFlight

    const closed = app?.close()
    await closing
    connection.socket.write('GET /healthz HTTP/1.1\r\nHost: bridge\r\n\r\n')
    // The second request is parsed (and answered, queued behind the first) before the first completes.
    await expect.poll(() => requestsSeen).toBe(2)
    release()
    await connection.ended
    await closed
    app = undefined

    const [first, second] = parseResponses(connection.received())
    expect(first?.status).toBe(200)
    expectProblem(second, 503, 'SERVICE_UNAVAILABLE')
    expect(second?.headers['retry-after']).toBe('1')
    expect(second?.headers.connection).toBe('close')
  })
})
