import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { afterEach, describe, expect, it } from 'vitest'
import { startEmbeddedSimulator } from '../../src/simulator/embedded.ts'

const children: ChildProcess[] = []
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGTERM')
})

/** Starts `node src/simulator/server.ts` with `env` and resolves with the URL it prints. */
async function startProcess(env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, ['src/simulator/server.ts'], {
    cwd: new URL('../../', import.meta.url).pathname,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let output = ''
  child.stdout?.setEncoding('utf8')
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: string) => {
      output += chunk
      const match = /listening on (http:\/\/\S+)/.exec(output)
      if (match) resolve(match[1] as string)
    })
    child.once('exit', () => reject(new Error(`simulator exited without listening: ${output}`)))
  })
}

describe('standalone simulator process', () => {
  it('listens on SIM_PORT and applies the SIM_* settings', async () => {
    const url = await startProcess({
      SIM_PORT: '0',
      SIM_API_TOKEN: 'sk_test_custom',
      SIM_CURRENCY: 'JPY',
      SIM_BUCKET_SIZE: '5',
    })
    const denied = await fetch(`${url}/store`, { headers: { 'x-recharge-access-token': 'sk_test_simulator' } })
    expect(denied.status).toBe(401)
    const response = await fetch(`${url}/store`, { headers: { 'x-recharge-access-token': 'sk_test_custom' } })
    expect(response.status).toBe(200)
    expect(response.headers.get('x-recharge-limit')).toBe('1/5')
    expect((await response.json()).store.currency).toBe('JPY')
  })

  it('exits cleanly on SIGTERM', async () => {
    await startProcess({ SIM_PORT: '0' })
    const child = children.pop() as ChildProcess
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    const [code, signal] = await exited
    expect({ code, signal }).toEqual({ code: 0, signal: null })
  })
})

describe('embedded simulator (demo mode)', () => {
  it('starts on an ephemeral port with the demo credentials and serves the portal stand-in', async () => {
    const embedded = await startEmbeddedSimulator()
    try {
      expect(embedded.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      const headers = { 'x-recharge-access-token': embedded.apiToken }
      const customers = await (await fetch(`${embedded.url}/customers?email=bob@example.com`, { headers })).json()
      const bob = customers.customers[0]
      expect(bob.external_customer_id.ecommerce).toEqual(expect.any(String))
      const portal = await fetch(`${embedded.url}/portal/${bob.hash}/subscriptions`)
      expect(portal.status).toBe(200)
      expect(portal.headers.get('content-type')).toContain('text/html')
      const html = await portal.text()
      expect(html).toContain('Recharge customer portal (simulator)')
      expect(html).toContain('Morning Ritual Coffee')
      expect((await fetch(`${embedded.url}/portal/unknown-hash/subscriptions`)).status).toBe(404)
    } finally {
      await embedded.close()
    }
  })
})
