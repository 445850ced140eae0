import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { Pool, request } from 'undici'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startTestSimulator } from '../support/simulator.ts'

const serverEntry = new URL('../../dist/server.js', import.meta.url).pathname
const children: ChildProcess[] = []

/** Start the built server as users run it (`node dist/server.js`) with exactly this environment. */
function startServer(env: Record<string, string>): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, [serverEntry], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  return Object.assign(child, { output: () => output })
}

async function waitFor<T>(probe: () => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const value = probe()
    if (value !== undefined) return value
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`timed out waiting for ${what}`)
}

beforeAll(() => {
  if (!existsSync(serverEntry)) throw new Error('dist/server.js is missing: run `npm run build` first (npm test does)')
})

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
})

describe('the server process', () => {
  it('refuses to start in production without its secrets, naming each one, and exits non-zero', async () => {
    const child = startServer({ NODE_ENV: 'production' })
    const [code] = await once(child, 'exit')
    expect(code).not.toBe(0)
    const output = child.output()
    for (const name of ['RECHARGE_API_TOKEN', 'CUSTOMER_TOKEN_SECRET', 'ADMIN_API_KEY', 'PUBLIC_URL']) {
      expect(output).toMatch(new RegExp(`^\\s+- ${name}: required when NODE_ENV=production`, 'm'))
    }
  })

  it('starts in demo mode with no configuration and serves health, docs and an OpenAPI 3.1 document', async () => {
    const child = startServer({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' })
    const base = await waitFor(() => /Demo storefront:\s+(http:\/\/\S+)\/demo/.exec(child.output())?.[1], 'demo banner')
    const health = await request(`${base}/healthz`)
    expect(health.statusCode).toBe(200)
    await health.body.dump()
    const docs = await request(`${base}/docs`)
    expect([200, 302]).toContain(docs.statusCode)
    await docs.body.dump()
    const openapi = await request(`${base}/openapi.json`)
    expect(openapi.statusCode).toBe(200)
    expect(((await openapi.body.json()) as { openapi: string }).openapi).toBe('3.1.0')
    child.kill('SIGTERM')
    const [code] = await once(child, 'exit')
    expect(code).toBe(0)
  })

  it('on SIGTERM finishes the in-flight request, answers new ones with 503, and exits 0', async () => {
    // A real slow upstream: the simulator delays every products read by 1.5 s.
    const sim = await startTestSimulator()
    try {
      await sim.setFaults([{ match: { path: '/products' }, latencyMs: 1_500 }])
      const child = startServer({
        NODE_ENV: 'production',
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        RECHARGE_API_TOKEN: sim.apiToken,
        RECHARGE_API_URL: sim.url,
        // A loopback simulator: a loopback PUBLIC_URL is allowed in production.
        PUBLIC_URL: 'http://127.0.0.1:3000',
        CUSTOMER_TOKEN_SECRET: 'lifecycle-test-secret-0123456789abcdef',
        ADMIN_API_KEY: 'lifecycle-test-admin-key-0123456789',
        CORS_ORIGINS: '',
        RECHARGE_WEBHOOK_SECRET: 'lifecycle-test-webhook-secret',
        METRICS_TOKEN: 'lifecycle-test-metrics-token-0123456789',
        SHUTDOWN_GRACE_MS: '20000',
      })
      const base = await waitFor(
        () => /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(child.output())?.[1],
        'listening log line',
      )
      const { products } = (await (await fetch(`${sim.url}/products?limit=1`, { headers: sim.headers })).json()) as {
        products: { external_product_id: string }[]
      }
      const productId = products[0]?.external_product_id
      // One pipelined connection: the follow-up request arrives on a socket that is busy when shutdown begins.
      const pool = new Pool(base, { connections: 1, pipelining: 2 })
      const slow = pool.request({ method: 'GET', path: `/v1/catalog/products/${productId}` })
      await waitFor(
        () => (child.output().includes(`/v1/catalog/products/${productId}`) ? true : undefined),
        'slow request',
      )
      child.kill('SIGTERM')
      await waitFor(() => (/shutting down/.test(child.output()) ? true : undefined), 'shutdown log line')
      const late = await pool.request({ method: 'GET', path: '/healthz' })
      expect(late.statusCode).toBe(503)
      await late.body.dump()
      const first = await slow
      expect(first.statusCode).toBe(200)
      expect(
        ((await first.body.json()) as { product: { external_product_id: string } }).product.external_product_id,
      ).toBe(productId)
      const [code] = await once(child, 'exit')
      expect(code).toBe(0)
      await pool.close()
      // One line summarises the effective configuration; it names the secrets as set, never their values.
      const summary = child
        .output()
        .split('\n')
        .find((line) => line.includes('effective configuration'))
      expect(summary).toBeDefined()
      expect(JSON.parse(summary as string).settings).toMatchObject({
        NODE_ENV: 'production',
        RECHARGE_API_URL: sim.url.replace(/\/$/, ''),
        RECHARGE_API_TOKEN: 'set',
        METRICS_TOKEN: 'set',
      })
      for (const secret of [
        sim.apiToken,
        'lifecycle-test-secret-0123456789abcdef',
        'lifecycle-test-admin-key-0123456789',
        'lifecycle-test-webhook-secret',
        'lifecycle-test-metrics-token-0123456789',
      ]) {
        expect(child.output()).not.toContain(secret)
      }
    } finally {
      await sim.close()
    }
  })
})
