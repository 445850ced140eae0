import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

const serverEntry = new URL('../../dist/server.js', import.meta.url).pathname
const recorder = new URL('../support/record-modules.mjs', import.meta.url).pathname
const simulatorDir = new URL('../../dist/simulator/', import.meta.url).href
const sourceSimulatorDir = new URL('../../src/simulator/', import.meta.url).href
const standInDirs = [
  simulatorDir,
  sourceSimulatorDir,
  new URL('../../dist/shopify-simulator/', import.meta.url).href,
  new URL('../../src/shopify-simulator/', import.meta.url).href,
]
const dir = mkdtempSync(join(tmpdir(), 'server-modules-'))
const children: ChildProcess[] = []

/** Start the built server with the module recorder, wait until it listens, stop it; the URLs of the modules it loaded. */
async function modulesLoadedBy(name: string, env: Record<string, string>): Promise<string[]> {
  const listFile = join(dir, `${name}.txt`)
  const child = spawn(process.execPath, ['--import', recorder, serverEntry], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', MODULE_LIST_FILE: listFile, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let output = ''
  const listening = new Promise<void>((resolve) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      if (/Server listening at|Demo storefront:/.test(output)) resolve()
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
  })
  const exited = once(child, 'exit')
  await Promise.race([listening, exited])
  expect(output).toMatch(/Server listening at|Demo storefront:/)
  child.kill('SIGTERM')
  const [code] = await exited
  expect(code).toBe(0)
  return readFileSync(listFile, 'utf8').split('\n')
}

beforeAll(() => {
  if (!existsSync(serverEntry)) throw new Error('dist/server.js is missing: run `npm run build` first (npm test does)')
})

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('modules a server process loads', () => {
  it('a production start loads none of the simulator’s modules (nor the Shopify stand-in’s)', async () => {
    const modules = await modulesLoadedBy('production', {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      RECHARGE_API_TOKEN: 'production-modules-token',
      // Nothing listens here: the process only has to start, not reach Recharge.
      RECHARGE_API_URL: 'http://127.0.0.1:9',
      CUSTOMER_TOKEN_SECRET: 'production-modules-secret-0123456789abcdef',
      ADMIN_API_KEY: 'production-modules-admin-key-0123456789',
      PUBLIC_URL: 'http://127.0.0.1:3000',
      CORS_ORIGINS: '',
      // Sign in with Shopify on: its verifiers load, the stand-in does not.
      SHOPIFY_SHOP_DOMAIN: 'production-modules.myshopify.com',
      SHOPIFY_APP_SECRET: 'production-modules-app-secret',
    })
    expect(modules).toContain(new URL('../../dist/app.js', import.meta.url).href)
    expect(modules).toContain(new URL('../../dist/identity/shopify/sign-in.js', import.meta.url).href)
    expect(modules.filter((url) => standInDirs.some((dir) => url.startsWith(dir)))).toEqual([])
  })

  it('a demo start loads the embedded simulator and Shopify stand-in (the recorder sees them when they are there)', async () => {
    const modules = await modulesLoadedBy('demo', { LOG_LEVEL: 'warn' })
    expect(modules).toContain(new URL('../../dist/simulator/embedded.js', import.meta.url).href)
    expect(modules).toContain(new URL('../../dist/shopify-simulator/embedded.js', import.meta.url).href)
  })
})
