import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Client, errors } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mintCustomerToken, secretKey } from '../../src/shopper/customer-token.ts'
import { connectRedis, deleteKeys, redisUrl } from '../support/redis.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * A deploy under traffic: the built server (`node dist/server.js`, production config, Redis) serves a steady load of
 * concurrent keep-alive clients whose requests are slow upstream (a simulator latency fault), and receives SIGTERM
 * with requests in flight. What users rely on: nothing the server accepted is dropped; everything after the signal
 * is refused cleanly; the process drains and exits 0.
 */

const serverEntry = new URL('../../dist/server.js', import.meta.url).pathname
const CLIENTS = 20
const UPSTREAM_LATENCY_MS = 400
const SHUTDOWN_GRACE_MS = 15_000
const SECRET = 'sigterm-load-test-secret-0123456789abcdef'
const keyPrefix = `test-sigterm-${randomBytes(4).toString('hex')}`

/** What happened to one request, from the client's side. */
interface Outcome {
  startedAt: number
  /** Status, when response headers arrived. */
  status?: number
  /** The body was read to its end (a response cut mid-body would fail here). */
  complete: boolean
  /** Error code when the request failed; `phase` says whether any response had arrived. */
  error?: { code: string; phase: 'before-response' | 'mid-response' }
}

async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  await once(server, 'close')
  return typeof address === 'object' && address ? address.port : 0
}

function errorCode(error: unknown): string {
  if (error instanceof errors.UndiciError) return error.code
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? code : String(error)
}

let sim: TestSimulator
let child: ChildProcess
let output = ''

beforeAll(() => {
  if (!existsSync(serverEntry)) throw new Error('dist/server.js is missing: run `npm run build` first (npm test does)')
})

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL')
  await sim?.close()
  const redis = await connectRedis()
  await deleteKeys(redis, `${keyPrefix}*`)
  await redis.close()
})

describe('SIGTERM under load', () => {
  it('completes every accepted request with 200, refuses later ones cleanly, and exits 0 within the grace period', async () => {
    // A bucket that never limits: the only thing slowing requests down is the upstream latency.
    sim = await startTestSimulator({ bucketSize: 1_000_000, leakRate: 1_000_000 })
    const { customers } = (await (await fetch(`${sim.url}/customers?limit=1`, { headers: sim.headers })).json()) as {
      customers: { id: number; email: string }[]
    }
    const customer = customers[0]
    if (!customer) throw new Error('the simulator has no customers')
    const { token } = await mintCustomerToken({ kind: 'email', email: customer.email }, secretKey(SECRET))

    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    child = spawn(process.execPath, [serverEntry], {
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        RECHARGE_API_URL: sim.url,
        PUBLIC_URL: base,
        RECHARGE_API_TOKEN: sim.apiToken,
        RECHARGE_STORE_SUBDOMAIN: sim.storeSubdomain,
        RECHARGE_BUCKET_SIZE: '1000000',
        RECHARGE_LEAK_RATE: '1000000',
        REDIS_URL: redisUrl(),
        REDIS_KEY_PREFIX: keyPrefix,
        CUSTOMER_TOKEN_SECRET: SECRET,
        ADMIN_API_KEY: 'sigterm-load-admin-key-0123456789',
        CORS_ORIGINS: '',
        SHUTDOWN_GRACE_MS: String(SHUTDOWN_GRACE_MS),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
    child.stdout?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000)
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000)
    })
    for (let attempt = 0; ; attempt++) {
      const ok = await fetch(`${base}/healthz`).then(
        (response) => response.ok,
        () => false,
      )
      if (ok) break
      if (attempt > 400 || child.exitCode !== null) throw new Error(`the server did not start:\n${output}`)
      await sleep(50)
    }
    // Production with neither METRICS_TOKEN nor METRICS_PORT starts, and says /metrics is open.
    await expect.poll(() => output, { timeout: 10_000 }).toContain('/metrics is open on the API port')

    // The portal URL is read from Recharge on every call (never cached): each request is in flight upstream.
    const customerPath = `/customers/${customer.id}`
    await sim.setFaults([{ match: { path: customerPath }, latencyMs: UPSTREAM_LATENCY_MS }])

    const outcomes: Outcome[] = []
    let stopLoad = false
    let exitedAt = Number.POSITIVE_INFINITY
    void exited.then(() => {
      exitedAt = Date.now()
    })
    // Each client: one keep-alive connection, one request at a time, back to back, until the server is gone.
    const clients = Array.from({ length: CLIENTS }, async () => {
      let client = new Client(base, { keepAliveTimeout: 30_000 })
      while (!stopLoad) {
        const outcome: Outcome = { startedAt: Date.now(), complete: false }
        outcomes.push(outcome)
        try {
          const response = await client.request({
            method: 'GET',
            path: '/v1/portal/url',
            headers: { authorization: `Bearer ${token}` },
          })
          outcome.status = response.statusCode
          try {
            await response.body.text()
            outcome.complete = true
          } catch (error) {
            outcome.error = { code: errorCode(error), phase: 'mid-response' }
          }
        } catch (error) {
          outcome.error = { code: errorCode(error), phase: 'before-response' }
        }
        if (outcome.error || outcome.status === 503) {
          // The connection is gone or closing: a new one (refused once the server has stopped listening).
          await client.destroy().catch(() => {})
          client = new Client(base, { keepAliveTimeout: 30_000 })
          if (Date.now() > exitedAt) break
          await sleep(20)
        }
      }
      await client.destroy().catch(() => {})
    })

    // Steady state first: every client has had responses and requests are waiting on the upstream.
    const inFlight = async () => (await sim.ledger({ path: customerPath })).filter((e) => e.status === null).length
    for (
      let attempt = 0;
      outcomes.filter((o) => o.status === 200).length < CLIENTS || (await inFlight()) === 0;
      attempt++
    ) {
      if (attempt > 400) throw new Error(`no steady load:\n${output}`)
      await sleep(25)
    }
    const inFlightAtSignal = await inFlight()
    const signalledAt = Date.now()
    child.kill('SIGTERM')

    // Liveness bound only: the drain takes about one upstream latency; the grace period is the server's own limit.
    const timeout = sleep(SHUTDOWN_GRACE_MS + 10_000).then(() => 'timeout' as const)
    const result = await Promise.race([exited, timeout])
    expect(result, `the server did not exit:\n${output}`).not.toBe('timeout')
    const [code, signal] = result as [number | null, NodeJS.Signals | null]
    // Exit 0: close-with-grace exits 1 when the grace period runs out, so 0 also means "drained within it".
    expect({ code, signal }).toEqual({ code: 0, signal: null })
    // Keep the load on briefly after the exit: new connections are refused.
    await sleep(200)
    stopLoad = true
    await Promise.all(clients)

    expect(inFlightAtSignal).toBeGreaterThan(0)
    // Every request the server accepted (it reached the upstream) was answered: no upstream call was abandoned, and
    // as many clients got a 200 as the upstream served calls.
    const upstream = await sim.ledger({ path: customerPath })
    expect(upstream.filter((entry) => entry.status !== 200)).toEqual([])
    const ok = outcomes.filter((o) => o.status === 200)
    expect(ok.every((o) => o.complete)).toBe(true)
    expect(ok.length).toBe(upstream.length)

    // Never a response cut mid-body, never another status than 200 or 503.
    expect(outcomes.filter((o) => o.error?.phase === 'mid-response')).toEqual([])
    expect(outcomes.filter((o) => o.status !== undefined && o.status !== 200 && o.status !== 503)).toEqual([])
    // Requests started before the signal are either accepted (200) or, when they reached the server after it began
    // closing, refused cleanly with 503 or a connection closed before any response. After the signal: no 200 unless
    // the request arrived before the listener stopped, and never an error mid-response (checked above).
    const afterSignal = outcomes.filter((o) => o.startedAt > signalledAt)
    const refusedAfter = afterSignal.filter((o) => o.status === 503 || o.error?.phase === 'before-response')
    expect(afterSignal.length).toBeGreaterThan(0)
    expect(refusedAfter.length).toBeGreaterThan(0)
    const requestsAfterExit = outcomes.filter((o) => o.startedAt > exitedAt)
    expect(requestsAfterExit.every((o) => o.error?.code === 'ECONNREFUSED')).toBe(true)
  })
})
