import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RedisClient } from '../../src/infra/redis.ts'
import { importRecordFor } from '../support/import-records.ts'
import { connectRedis, deleteKeys, redisUrl, uniquePrefix } from '../support/redis.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'
import { until } from '../support/until.ts'

/**
 * A 500-record import while the bridge process is SIGKILLed at five random moments and started again each time.
 * The judge is the simulator's state: exactly one customer, payment method and address per record, and exactly one
 * subscription per record line. The simulator's budget is generous (200 calls/s) so the run takes seconds, and each
 * kill lands at a random count of upstream writes.
 */
const RECORDS = 500
const KILLS = 5
const ADMIN = { authorization: 'Bearer test-admin-key-0123456789abcdef', 'content-type': 'application/json' }
const prefix = uniquePrefix('import-crash').replaceAll(':', '-')
const children: ChildProcess[] = []
let sim: TestSimulator
let redis: RedisClient

interface Bridge {
  child: ChildProcess
  url: string
}

function startBridge(): Promise<Bridge> {
  const child = spawn(process.execPath, ['test/e2e/import-crash-server.ts'], {
    cwd: process.cwd(),
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      RECHARGE_API_TOKEN: sim.apiToken,
      RECHARGE_API_URL: sim.url,
      RECHARGE_BUCKET_SIZE: '200',
      RECHARGE_LEAK_RATE: '200',
      CUSTOMER_TOKEN_SECRET: 'test-customer-token-secret-0123456789abcdef',
      ADMIN_API_KEY: 'test-admin-key-0123456789abcdef',
      REDIS_URL: redisUrl(),
      REDIS_KEY_PREFIX: prefix,
      IMPORT_TEST_LEASE_MS: '1000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.push(child)
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as { port?: number }
        if (typeof parsed.port === 'number') resolve({ child, url: `http://127.0.0.1:${parsed.port}` })
      } catch {
        // not ours
      }
    })
    child.once('exit', (code) => reject(new Error(`bridge exited early with ${code}`)))
  })
}

async function kill(bridge: Bridge): Promise<void> {
  const exited = new Promise((resolve) => bridge.child.once('exit', resolve))
  bridge.child.kill('SIGKILL')
  await exited
}

async function upstreamWrites(): Promise<number> {
  return (await sim.ledger()).filter((entry) => entry.method === 'POST').length
}

beforeAll(async () => {
  sim = await startTestSimulator({ bucketSize: 200, leakRate: 200 })
  redis = await connectRedis()
})

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  await sim?.close()
  await deleteKeys(redis, `${prefix}*`)
  await redis.close()
})

describe('an import across five crashes', () => {
  it('leaves exactly one customer, payment method, address and subscription set per record', async () => {
    // Every fifth record has two lines: a record's subscription set is checked whole.
    const records = Array.from({ length: RECORDS }, (_, n) =>
      importRecordFor({
        orderId: `crash-${n}`,
        email: `crash-${n}@example.com`,
        shipping: { address1: `${n} Crash Lane` },
        ...(n % 5 === 0
          ? {
              lines: [
                {
                  external_product_id: '7100000001',
                  external_variant_id: '7200000011',
                  quantity: 1,
                  frequency: { unit: 'month', every: 1 },
                },
                {
                  external_product_id: '7100000005',
                  external_variant_id: '7200000051',
                  quantity: 2,
                  frequency: { unit: 'month', every: 2 },
                },
              ],
            }
          : {}),
      }),
    )
    const expectedWrites = RECORDS * 4 + RECORDS / 5
    // Five random moments, as counts of upstream writes spread over the run.
    const moments = Array.from({ length: KILLS }, () =>
      Math.floor(expectedWrites * (0.05 + Math.random() * 0.85)),
    ).sort((a, b) => a - b)

    let bridge = await startBridge()
    const created = await fetch(`${bridge.url}/v1/admin/imports`, {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify(records),
    })
    expect(created.status).toBe(202)
    const { id } = (await created.json()) as { id: string }

    for (const moment of moments) {
      await until(async () => (await upstreamWrites()) >= moment, 90_000, `${moment} upstream writes`)
      await kill(bridge)
      bridge = await startBridge()
    }

    let run: { state: string; done: number; failed: number } = { state: 'running', done: 0, failed: 0 }
    await until(
      async () => {
        const response = await fetch(`${bridge.url}/v1/admin/imports/${id}`, { headers: ADMIN })
        run = (await response.json()) as typeof run
        return run.state === 'done'
      },
      90_000,
      'the run to finish',
    )
    expect(run).toMatchObject({ done: RECORDS, failed: 0 })

    const state = await sim.state()
    for (const [n, record] of records.entries()) {
      const customers = state.customers.filter((row) => row.email === record.customer.email)
      expect(customers, `record ${n}`).toHaveLength(1)
      const customerId = customers[0]?.id
      expect(
        state.payment_methods.filter((row) => row.customer_id === customerId),
        `record ${n}`,
      ).toHaveLength(1)
      expect(
        state.addresses.filter((row) => row.customer_id === customerId),
        `record ${n}`,
      ).toHaveLength(1)
      const subscriptions = state.subscriptions.filter((row) => row.customer_id === customerId)
      expect(
        subscriptions.map((row) => row.properties.find((p) => p.name === '_import_line')?.value).sort(),
        `record ${n}`,
      ).toEqual(record.lines.map((_, index) => String(index)))
    }
    expect(state.subscriptions.filter((row) => String(row.properties[0]?.value).startsWith('crash-'))).toHaveLength(
      RECORDS + RECORDS / 5,
    )
    bridge.child.kill('SIGTERM')
  }, 240_000)
})
