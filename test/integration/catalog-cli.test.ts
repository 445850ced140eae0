import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sampleFeed } from '../../src/catalog/sample-feed.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * `recharge-bridge catalog sync` as a process: SIGKILLed in the middle of its writes (no chance to clean up), then run
 * again: the second run resumes from the state file and finishes with every product and plan exactly once.
 */
const cli = new URL('../../src/cli.ts', import.meta.url).pathname
const token = `sk_test_cli_${randomBytes(4).toString('hex')}`
let sim: TestSimulator
let dir: string

function run(args: string[]): {
  child: ChildProcess
  done: Promise<{ code: number | null; stdout: string; stderr: string }>
} {
  const child = spawn(process.execPath, [cli, 'catalog', 'sync', ...args], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'development',
      LOG_LEVEL: 'silent',
      RECHARGE_API_URL: sim.url,
      RECHARGE_API_TOKEN: token,
      RECHARGE_BUCKET_SIZE: '10',
      RECHARGE_LEAK_RATE: '40',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr?.on('data', (chunk) => {
    stderr += chunk
  })
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
  return { child, done }
}

beforeAll(async () => {
  // A small bucket and a moderate leak: the run takes a few seconds, long enough to be killed midway.
  sim = await startTestSimulator({ apiTokens: [token], bucketSize: 10, leakRate: 40 })
  dir = mkdtempSync(join(tmpdir(), 'catalog-cli-'))
})

afterAll(async () => {
  await sim?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('catalog sync CLI', () => {
  it('finishes a SIGKILLed run on the next run, with no duplicates', async () => {
    const feed = sampleFeed({ products: 60, prefix: 'cli' })
    writeFileSync(join(dir, 'feed.json'), JSON.stringify(feed))
    const args = ['--feed', 'feed.json', '--strategy', 'bulk', '--no-delete']

    const first = run(args)
    for (;;) {
      const created = await sim.ledger({ method: 'POST', path: '/products' })
      if (created.length >= 15) break
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    first.child.kill('SIGKILL')
    await first.done
    expect(existsSync(join(dir, '.catalog-sync-state.json'))).toBe(true)
    const midway = (await sim.state()).products.filter((p) => p.external_product_id.startsWith('cli'))
    expect(midway.length).toBeLessThan(60)

    const second = await run(args).done
    expect(second.code, second.stderr).toBe(0)
    expect(second.stdout).toContain('(resumed)')
    expect(existsSync(join(dir, '.catalog-sync-state.json'))).toBe(false)

    const state = await sim.state()
    const ours = state.products.filter((p) => p.external_product_id.startsWith('cli'))
    expect(ours.map((p) => p.external_product_id).sort()).toEqual(
      feed.products.map((p) => p.external_product_id).sort(),
    )
    feed.products.forEach((product, i) => {
      const plans = state.plans.filter((plan) => plan.external_product_id.ecommerce === product.external_product_id)
      const keys = plans.map((plan) => `${plan.type}:${plan.subscription_preferences?.order_interval_frequency ?? ''}`)
      expect(new Set(keys).size, `duplicate plans for ${product.external_product_id}`).toBe(keys.length)
      expect(plans.length).toBe(3 + (i % 5 === 0 ? 1 : 0) + (i % 3 === 0 ? 1 : 0))
    })
    // Each product was created by exactly one successful POST across both runs.
    const creates = await sim.ledger({ method: 'POST', path: '/products' })
    expect(creates.filter((entry) => entry.status === 201)).toHaveLength(60)

    const third = await run(args).done
    expect(third.code).toBe(0)
    expect(third.stdout).toContain('upstream calls: 3 (3 reads, 0 writes)')
  })

  it('prints the plan without writing on --dry-run, and exits 3 on an invalid feed', async () => {
    // Its own feed file: the SIGKILL test's feed.json may not exist yet (tests run in any order).
    writeFileSync(join(dir, 'dry-run-feed.json'), JSON.stringify(sampleFeed({ products: 3, prefix: 'dry' })))
    const mark = (await sim.ledger()).length
    const dry = await run(['--feed', 'dry-run-feed.json', '--dry-run']).done
    expect(dry.code).toBe(0)
    expect(dry.stdout).toContain('Dry run (nothing written)')
    expect((await sim.ledger()).slice(mark).filter((entry) => entry.method !== 'GET')).toEqual([])

    writeFileSync(
      join(dir, 'bad.json'),
      JSON.stringify({ version: 1, products: [{ external_product_id: 'x', title: 'X', variants: [] }] }),
    )
    const bad = await run(['--feed', 'bad.json']).done
    expect(bad.code).toBe(3)
    expect(bad.stderr).toContain('products[0].variants [x]')
  })
})
