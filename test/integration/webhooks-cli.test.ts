import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REGISTRABLE_TOPICS } from '../../src/simulator/routes/webhooks.ts'
import { NEEDED_TOPICS } from '../../src/webhooks/topics.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

const run = promisify(execFile)
let simulator: TestSimulator

beforeAll(async () => {
  simulator = await startTestSimulator({ webhookAutoDeliver: false, bucketSize: 400, leakRate: 200 })
})

afterAll(async () => {
  await simulator?.close()
})

/** `recharge-bridge webhooks …` as a user runs it; exit code and parsed --json output. */
async function cli(...args: string[]): Promise<{ code: number; json: Record<string, unknown> }> {
  const env = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    RECHARGE_API_TOKEN: simulator.apiToken,
    RECHARGE_API_URL: simulator.url,
    RECHARGE_BUCKET_SIZE: '400',
    RECHARGE_LEAK_RATE: '200',
    CUSTOMER_TOKEN_SECRET: 'test-customer-token-secret-0123456789abcdef',
    ADMIN_API_KEY: 'test-admin-key-0123456789abcdef',
    PUBLIC_URL: 'https://cli.bridge.example',
  }
  try {
    const { stdout } = await run(process.execPath, ['src/cli.ts', 'webhooks', ...args, '--json'], { env })
    return { code: 0, json: JSON.parse(stdout) as Record<string, unknown> }
  } catch (error) {
    const failed = error as { code: number; stdout: string }
    return { code: failed.code, json: JSON.parse(failed.stdout) as Record<string, unknown> }
  }
}

describe('recharge-bridge webhooks', () => {
  const unsupported = NEEDED_TOPICS.filter((topic) => !REGISTRABLE_TOPICS.includes(topic))

  it('register creates what is missing, list shows it, prune removes only our redundant ones', async () => {
    const registered = await cli('register')
    expect((registered.json.created as string[]).length).toBe(NEEDED_TOPICS.length - unsupported.length)
    expect(registered.code).toBe(unsupported.length > 0 ? 2 : 0)

    // A redundant webhook of ours (old URL shape) and one of another environment.
    const headers = { ...simulator.headers, 'content-type': 'application/json' }
    for (const address of ['https://cli.bridge.example/v1/webhooks/recharge', 'https://staging.example/hooks']) {
      const created = await fetch(`${simulator.url}/webhooks`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ address, topic: 'subscription/updated' }),
      })
      expect(created.status).toBe(201)
    }

    const listed = await cli('list')
    expect((listed.json.kept as unknown[]).length).toBe(NEEDED_TOPICS.length - unsupported.length)
    expect((listed.json.prunable as { address: string }[]).map((webhook) => webhook.address)).toEqual([
      'https://cli.bridge.example/v1/webhooks/recharge',
    ])
    expect((listed.json.missing as string[]).sort()).toEqual([...unsupported].sort())

    const dryRun = await cli('prune', '--dry-run')
    expect((dryRun.json.pruned as unknown[]).length).toBe(1)
    expect((await simulator.state()).webhooks).toHaveLength(NEEDED_TOPICS.length - unsupported.length + 2)

    const pruned = await cli('prune')
    expect(pruned.code).toBe(0)
    const remaining = (await simulator.state()).webhooks.map((webhook) => webhook.address)
    expect(remaining).toContain('https://staging.example/hooks')
    expect(remaining).not.toContain('https://cli.bridge.example/v1/webhooks/recharge')
    expect(remaining).toHaveLength(NEEDED_TOPICS.length - unsupported.length + 1)
  })
})
