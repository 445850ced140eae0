import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { secretKey, verifyCustomerToken } from '../../src/shopper/customer-token.ts'
import { testConfig } from '../support/config.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * The CLI as a user runs it: it reads the working directory's `.env` as `npm start` does (the environment wins), mints
 * through a running bridge whose secret it does not know (a demo server's), and answers a usage error with the error
 * and a hint, not the whole help text.
 */
const cli = new URL('../../src/cli.ts', import.meta.url).pathname
const FILE_SECRET = 'secret-from-the-dotenv-file-0123456789'
const ENV_SECRET = 'secret-from-the-environment-0123456789'
const SERVER_ADMIN_KEY = 'cli-test-server-admin-key-0123456789'
let dir: string
let sim: TestSimulator
let server: FastifyInstance
let serverUrl: string

function cliRun(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, stdout, stderr })),
  )
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cli-env-'))
  writeFileSync(
    join(dir, '.env'),
    `# as copied from .env.example\nNODE_ENV=development\nCUSTOMER_TOKEN_SECRET=${FILE_SECRET}\n`,
  )
  sim = await startTestSimulator({ bucketSize: 1000, leakRate: 1000 })
  // A running bridge with a customer-token secret the CLI is never told, as in demo mode.
  server = await buildApp(
    testConfig({
      RECHARGE_API_URL: sim.url,
      RECHARGE_API_TOKEN: sim.apiToken,
      ADMIN_API_KEY: SERVER_ADMIN_KEY,
      CUSTOMER_TOKEN_SECRET: 'server-only-secret-nobody-else-knows-0123',
    }),
    { redis: null, backgroundWorkers: false },
  )
  await server.listen({ port: 0, host: '127.0.0.1' })
  serverUrl = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await server?.close()
  await sim?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('the CLI', () => {
  it('reads CUSTOMER_TOKEN_SECRET from ./.env: the minted token verifies with the file’s secret', async () => {
    const minted = await cliRun(['token', 'mint', '--email', 'alice@example.com'])
    expect(minted.code, minted.stderr).toBe(0)
    const verified = await verifyCustomerToken(minted.stdout.trim(), secretKey(FILE_SECRET))
    expect(verified.subject).toEqual({ kind: 'email', email: 'alice@example.com' })
  })

  it('lets the environment win over ./.env, as node --env-file does', async () => {
    const minted = await cliRun(['token', 'mint', '--email', 'alice@example.com'], {
      CUSTOMER_TOKEN_SECRET: ENV_SECRET,
    })
    expect(minted.code, minted.stderr).toBe(0)
    await expect(verifyCustomerToken(minted.stdout.trim(), secretKey(ENV_SECRET))).resolves.toBeDefined()
    await expect(verifyCustomerToken(minted.stdout.trim(), secretKey(FILE_SECRET))).rejects.toThrow()
  })

  it('with --server mints a token that running bridge accepts, though the CLI does not know its secret', async () => {
    const minted = await cliRun([
      'token',
      'mint',
      '--server',
      serverUrl,
      '--admin-key',
      SERVER_ADMIN_KEY,
      '--email',
      'alice@example.com',
    ])
    expect(minted.code, minted.stderr).toBe(0)
    const me = await fetch(`${serverUrl}/v1/me`, { headers: { authorization: `Bearer ${minted.stdout.trim()}` } })
    expect(me.status).toBe(200)
    expect(((await me.json()) as { email: string }).email).toBe('alice@example.com')
  })

  it('with --server and a wrong admin key says the bridge refused, exit 1', async () => {
    const refused = await cliRun([
      'token',
      'mint',
      '--server',
      serverUrl,
      '--admin-key',
      'wrong-key',
      '--email',
      'alice@example.com',
    ])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/refused to mint a token \(401\) UNAUTHENTICATED/)
  })

  it('answers a usage error with the error and a one-line hint, not the whole help text', async () => {
    const failed = await cliRun(['token', 'mint'])
    expect(failed.code).toBe(1)
    expect(failed.stderr).toContain('pass exactly one of --email or --external-id')
    expect(failed.stderr).toContain('(add --help for usage)')
    expect(failed.stderr).not.toMatch(/Usage:|Options:/)
    const unknown = await cliRun(['token', 'mint', '--emial', 'a@b.c'])
    expect(unknown.stderr).toMatch(/unknown option '--emial'/)
    expect(unknown.stderr).not.toMatch(/Usage:|Options:/)
  })
})
