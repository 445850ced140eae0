import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RedisClient } from '../../src/infra/redis.ts'
import { connectRedis, deleteKeys, redisUrl, uniquePrefix } from '../support/redis.ts'
import { until } from '../support/until.ts'

const secret = 'whsec_e2e_client_secret_5678'
const prefix = uniquePrefix('webhooks-crash')
const children: ChildProcess[] = []
const forwarded: string[] = []
let receiver: Server
let redis: RedisClient

interface Bridge {
  child: ChildProcess
  port: number
  lines: Record<string, unknown>[]
}

function startBridge(env: Record<string, string>): Promise<Bridge> {
  const port = (receiver.address() as AddressInfo).port
  const child = spawn(process.execPath, ['test/e2e/webhooks-crash-server.ts'], {
    cwd: process.cwd(),
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      RECHARGE_API_TOKEN: 'sk_test_unused',
      RECHARGE_API_URL: 'http://127.0.0.1:9',
      CUSTOMER_TOKEN_SECRET: 'test-customer-token-secret-0123456789abcdef',
      ADMIN_API_KEY: 'test-admin-key-0123456789abcdef',
      PUBLIC_URL: 'https://bridge.example',
      REDIS_URL: redisUrl(),
      RECHARGE_WEBHOOK_SECRET: secret,
      WEBHOOK_FORWARD_URL: `http://127.0.0.1:${port}/events`,
      WEBHOOK_FORWARD_SECRET: 'forward-secret-0123456789',
      WEBHOOKS_TEST_PREFIX: prefix,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.push(child)
  const lines: Record<string, unknown>[] = []
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>
        lines.push(parsed)
        if (typeof parsed.port === 'number') resolve({ child, port: parsed.port, lines })
      } catch {
        // not ours
      }
    })
    child.once('exit', (code) => reject(new Error(`bridge exited early with ${code}`)))
  })
}

beforeAll(async () => {
  redis = await connectRedis()
  receiver = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => {
      body += chunk
    })
    request.on('end', () => {
      forwarded.push(body)
      response.writeHead(200).end()
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
})

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  await new Promise<void>((resolve) => receiver.close(() => resolve()))
  await deleteKeys(redis, `${prefix}*`)
  await redis.close()
})

describe('webhook durability across a crash', () => {
  it('processes a delivery acknowledged by a process that was SIGKILLed before processing it', async () => {
    const first = await startBridge({ WEBHOOKS_TEST_BLOCK: '1' })
    const body =
      '{"subscription":{"id":31337,"customer_id":4242,"status":"cancelled","updated_at":"2030-02-02T00:00:00"}}'
    const response = await fetch(`http://127.0.0.1:${first.port}/v1/webhooks/recharge?topic=subscription/cancelled`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-recharge-hmac-sha256': createHash('sha256')
          .update(secret + body)
          .digest('hex'),
      },
      body,
    })
    expect(response.status).toBe(200)
    await until(() => first.lines.some((line) => 'processing' in line))

    const exited = new Promise((resolve) => first.child.once('exit', resolve))
    first.child.kill('SIGKILL')
    await exited
    expect(forwarded).toHaveLength(0)
    const pending = await redis.xPending(`${prefix}:deliveries`, 'recharge-bridge')
    expect(Number(pending.pending)).toBe(1)

    // A fresh process (new consumer name) takes the orphaned delivery over and processes it.
    const second = await startBridge({ WEBHOOKS_TEST_RETRY_MS: '500' })
    await until(() => forwarded.length === 1)
    expect(JSON.parse(forwarded[0] as string)).toMatchObject({
      topic: 'subscription/cancelled',
      resource: 'subscription',
      data: { id: 31337, status: 'cancelled' },
    })
    await until(async () => (await redis.xLen(`${prefix}:deliveries`)) === 0)
    await sleep(700)
    expect(forwarded).toHaveLength(1)
    second.child.kill('SIGTERM')
  })
})
