import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importRecordFor, toNdjson } from '../support/import-records.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

const exec = promisify(execFile)
let sim: TestSimulator
let file: string

beforeAll(async () => {
  sim = await startTestSimulator({ bucketSize: 400, leakRate: 200 })
  file = join(tmpdir(), `import-cli-${process.pid}.ndjson`)
  writeFileSync(
    file,
    toNdjson([
      importRecordFor({ orderId: 'cli-1', email: 'cli-1@example.com' }),
      importRecordFor({ orderId: 'cli-2', email: 'cli-2@example.com' }),
      '{"external_order_id": "cli-3"',
    ]),
  )
})
afterAll(async () => sim?.close())

/** `recharge-bridge import …` as a merchant runs it (one process, no Redis): exit code and output. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string }> {
  const env = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    RECHARGE_API_TOKEN: sim.apiToken,
    RECHARGE_API_URL: sim.url,
    RECHARGE_BUCKET_SIZE: '400',
    RECHARGE_LEAK_RATE: '200',
    CUSTOMER_TOKEN_SECRET: 'test-customer-token-secret-0123456789abcdef',
    ADMIN_API_KEY: 'test-admin-key-0123456789abcdef',
  }
  try {
    const { stdout } = await exec(process.execPath, ['src/cli.ts', 'import', ...args], { env })
    return { code: 0, stdout }
  } catch (error) {
    const failed = error as { code: number; stdout: string }
    return { code: failed.code, stdout: failed.stdout }
  }
}

describe('recharge-bridge import', () => {
  it('--dry-run writes nothing; the run creates, reports the bad line; a second dry run finds it all', async () => {
    const dry = await cli('--file', file, '--dry-run')
    expect(dry.code).toBe(1)
    expect(dry.stdout).toContain(
      '#0 cli-1: customer create, payment method create, address create, subscriptions: 0 exist, 1 to create',
    )
    expect(dry.stdout).toMatch(/#2 \(no external_order_id\): would fail at validate: INVALID_RECORD/)
    expect(dry.stdout).toMatch(/subscriptions to create\s+2/)
    expect((await sim.ledger()).filter((entry) => entry.method !== 'GET')).toEqual([])

    const run = await cli('--file', file)
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/created \(something new\)\s+2/)
    expect(run.stdout).toMatch(/failed\s+1/)
    expect(run.stdout).toMatch(/calls\/record, new customer\s+4\.00/)
    expect(run.stdout).toContain('#2 (no external_order_id): validate INVALID_RECORD')
    const state = await sim.state()
    expect(state.subscriptions.filter((row) => row.properties.some((p) => p.value === 'cli-1'))).toHaveLength(1)

    const again = await cli('--file', file, '--dry-run', '--json')
    const outcomes = JSON.parse(again.stdout) as { status: string }[]
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['found', 'found', 'failed'])
  })
})
