import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import type { CatalogFeed } from '../../src/catalog/feed.ts'
import type { RedisClient } from '../../src/infra/redis.ts'
import { tokenFingerprint } from '../../src/recharge/fingerprint.ts'
import { testConfig } from '../support/config.ts'
import { connectRedis, deleteKeys, redisUrl } from '../support/redis.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * The CLI and a server replica sharing one Redis: one sync per store across both (the CLI gets exit code 2 while the
 * server's job runs), and a CLI run refreshes the server's cached storefront entries at once.
 */
const cli = new URL('../../src/cli.ts', import.meta.url).pathname
const token = `sk_test_clire_${randomBytes(4).toString('hex')}`
let sim: TestSimulator
let redis: RedisClient
let app: FastifyInstance
let dir: string

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cli, 'catalog', 'sync', ...args], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      LOG_LEVEL: 'silent',
      RECHARGE_API_URL: sim.url,
      RECHARGE_API_TOKEN: token,
      RECHARGE_BUCKET_SIZE: '1000',
      RECHARGE_LEAK_RATE: '1000',
      REDIS_URL: redisUrl(),
    },
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
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })))
}

function feedWithPrice(price: string): CatalogFeed {
  return {
    version: 1,
    products: [
      {
        external_product_id: 'clire-1',
        title: 'Shared',
        options: [],
        variants: [{ external_variant_id: 'clire-1-a', title: 'A', options: [], price }],
        offers: [
          {
            type: 'subscription',
            interval_unit: 'week',
            intervals: [2],
            discount: { type: 'percentage', amount: '10' },
          },
        ],
      },
    ],
  }
}

beforeAll(async () => {
  sim = await startTestSimulator({ apiTokens: [token], bucketSize: 1000, leakRate: 1000 })
  redis = await connectRedis()
  dir = mkdtempSync(join(tmpdir(), 'catalog-cli-redis-'))
  // No catalog namespace: the server uses the same Redis keys as the CLI (both derive them from the token).
  app = await buildApp(
    testConfig({
      RECHARGE_API_URL: sim.url,
      RECHARGE_API_TOKEN: token,
      RECHARGE_BUCKET_SIZE: '1000',
      RECHARGE_LEAK_RATE: '1000',
      REDIS_URL: redisUrl(),
    }),
    { redis, backgroundWorkers: false },
  )
  await app.ready()
})

afterAll(async () => {
  await app?.close()
  await sim?.close()
  await deleteKeys(redis, `*${tokenFingerprint(token)}*`)
  await redis?.quit()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('catalog sync CLI with Redis', () => {
  it('a CLI sync refreshes the server replica’s cached product at once', async () => {
    writeFileSync(join(dir, 'feed.json'), JSON.stringify(feedWithPrice('10.00')))
    const first = await runCli(['--feed', 'feed.json', '--no-delete'])
    expect(first.code, first.stderr).toBe(0)
    const read = async () => {
      const response = await app.inject({ method: 'GET', url: '/v1/catalog/products/clire-1' })
      return { cache: response.headers['x-cache'], price: response.json().product.variants[0].prices[0] }
    }
    await read()
    expect((await read()).cache).toBe('HIT')

    writeFileSync(join(dir, 'feed.json'), JSON.stringify(feedWithPrice('20.00')))
    const second = await runCli(['--feed', 'feed.json', '--no-delete'])
    expect(second.code, second.stderr).toBe(0)
    const after = await read()
    expect(after.cache).toBe('MISS')
    expect(after.price).toMatchObject({
      unit_price: '20.00',
      plans: [{ discounted_price: '18.00', discount_value: '2.00' }],
    })
  })

  it('one sync per store across the server and the CLI: the CLI exits 2 while the server’s job runs', async () => {
    writeFileSync(join(dir, 'feed.json'), JSON.stringify(feedWithPrice('25.00')))
    // The server's job is held at its first Recharge call until the CLI has run: the two overlap for certain.
    await sim.setFaults([{ match: { method: 'GET', path: '/store' }, gate: 'server-sync', count: 1 }])
    const started = await app.catalogSync.start({ feed: feedWithPrice('30.00'), deleteMissing: false, source: 'api' })
    if (!started.ok) throw new Error('lock held')
    await expect.poll(() => sim.heldAt('server-sync'), { timeout: 15_000 }).toBe(1)
    const cliRun = await runCli(['--feed', 'feed.json', '--no-delete'])
    await sim.openGate('server-sync')
    expect(cliRun.code, cliRun.stderr).toBe(2)
    expect(cliRun.stderr).toContain(`job ${started.job.id}`)
    expect((await started.done).state).toBe('succeeded')
  })
})
