import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { sampleFeed } from '../../src/catalog/sample-feed.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * The deletion guard of `recharge-bridge catalog sync`: a feed that lists two products, run against the seeded store
 * (six products the feed does not list), deletes nothing unless --yes (or --allow-deletes) confirms it.
 */
const cli = new URL('../../src/cli.ts', import.meta.url).pathname
const token = `sk_test_deletes_${randomBytes(4).toString('hex')}`
let sim: TestSimulator
let dir: string
const feed = sampleFeed({ products: 2, prefix: 'two' })

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cli, 'catalog', 'sync', '--feed', 'feed.json', ...args], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'development',
      LOG_LEVEL: 'silent',
      RECHARGE_API_URL: sim.url,
      RECHARGE_API_TOKEN: token,
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

async function writes(since: number) {
  return (await sim.ledger()).slice(since).filter((entry) => entry.method !== 'GET')
}

beforeAll(async () => {
  sim = await startTestSimulator({ apiTokens: [token], bucketSize: 1000, leakRate: 1000 })
  dir = mkdtempSync(join(tmpdir(), 'catalog-cli-deletes-'))
  writeFileSync(join(dir, 'feed.json'), JSON.stringify(feed))
})

afterAll(async () => {
  await sim?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('catalog sync deletion guard', () => {
  // Each test starts from the seeded store (six products the feed does not list): --yes deletes them.
  beforeEach(async () => {
    await sim.reset()
  })

  it('refuses a run that would delete products without --yes: exit 3, the products named, nothing written', async () => {
    const seeded = (await sim.state()).products.map((product) => product.external_product_id)
    expect(seeded.length).toBeGreaterThan(2)
    const mark = (await sim.ledger()).length
    const refused = await run([])
    expect(refused.code).toBe(3)
    expect(refused.stderr).toContain(`would delete ${seeded.length} of the ${seeded.length} products`)
    expect(refused.stderr).toContain('--yes')
    expect(refused.stderr).toContain(seeded[0])
    expect(await writes(mark)).toEqual([])
    expect((await sim.state()).products.map((product) => product.external_product_id).sort()).toEqual(seeded.sort())
  })

  it('lists the deletions on --dry-run without --yes, writing nothing', async () => {
    const mark = (await sim.ledger()).length
    const dry = await run(['--dry-run'])
    expect(dry.code).toBe(0)
    expect(dry.stdout).toContain('Dry run (nothing written)')
    expect(await writes(mark)).toEqual([])
  })

  it('with --yes deletes the products the feed does not list, leaving exactly the feed', async () => {
    const confirmed = await run(['--yes'])
    expect(confirmed.code, confirmed.stderr).toBe(0)
    const left = (await sim.state()).products.map((product) => product.external_product_id).sort()
    expect(left).toEqual(feed.products.map((product) => product.external_product_id).sort())
  })

  it('describes the guard in --help', async () => {
    const child = spawn(process.execPath, [cli, 'catalog', 'sync', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    await new Promise((resolve) => child.on('exit', resolve))
    expect(stdout).toContain('--yes')
    expect(stdout).toMatch(/Deletion guard: .*deleted/)
    expect(stdout).toMatch(/refused \(exit 3, nothing written\) unless --yes/)
  })
})
