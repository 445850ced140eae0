import { type ChildProcess, spawn } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'

const children: ChildProcess[] = []
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGTERM')
})

/** Starts `node <script> [args]` with `env` and resolves with the URL it prints. */
async function startProcess(args: string[], env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, args, {
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
    child.once('exit', () => reject(new Error(`the Shopify stand-in exited without listening: ${output}`)))
  })
}

describe('standalone Shopify stand-in', () => {
  it.each([
    ['server.ts', ['src/shopify-simulator/server.ts']],
    ['the CLI command', ['src/cli.ts', 'shopify-simulator', '--port', '0']],
  ])('%s listens and applies the SHOPIFY_SIM_* settings', async (_name, args) => {
    const url = await startProcess(args, {
      SHOPIFY_SIM_PORT: '0',
      SHOPIFY_SIM_SHOP_DOMAIN: 'standalone.myshopify.com',
      SHOPIFY_SIM_STOREFRONT_TOKEN: 'standalone-storefront-token',
    })
    const discovery = await (await fetch(`${url}/.well-known/customer-account-api`)).json()
    expect(discovery.graphql_api).toMatch(/\/account\/customer\/api\/[\d-]+\/graphql$/)
    const issued = await fetch(`${url}/__sim/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ api: 'storefront', email: 'alice@example.com' }),
    })
    const { access_token } = await issued.json()
    const answer = await fetch(`${url}/api/2025-07/graphql.json`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-shopify-storefront-access-token': 'standalone-storefront-token',
      },
      body: JSON.stringify({
        query: 'query($t: String!) { customer(customerAccessToken: $t) { id email } }',
        variables: { t: access_token },
      }),
    })
    expect(await answer.json()).toEqual({
      data: { customer: { id: 'gid://shopify/Customer/7001001', email: 'alice@example.com' } },
    })
  })
})
