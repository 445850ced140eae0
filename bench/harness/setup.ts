/**
 * Starts every process of a run: a private redis-server on a free port, the simulator (bucket effectively
 * unlimited, so the throughput suite measures the bridge and not the budget), three bridge replicas and the
 * baselines. The cache suites reuse the same processes.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { freePort } from '../../tools/free-port.ts'
import { benchShopper, startBridge } from './bridge.ts'
import { repoRoot, spawnNode, waitForHttp } from './processes.ts'
import { type BenchRedis, startBenchRedis } from './redis.ts'
import { startSimulator } from './simulator.ts'
import type { Profile, RunContext } from './types.ts'

/** A budget the throughput suites never reach: they measure the servers, not the rate limit. */
export const UNLIMITED = 1_000_000_000

/**
 * Processes per side of the uncached comparison (P5): one pair per round. Processes running the same code under the
 * same load differ in their cost per request by up to 8 % on these machines, and keep their difference (two identical
 * reply-from processes, 16 rounds in either order: 0.93 and 0.91): with one process a side, a run measures which
 * instance drew the better luck as much as which code is cheaper.
 */
function uncachedInstances(profile: Profile): number {
  return Math.max(1, profile.rounds)
}

function newestSource(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path))
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs)
  }
  return newest
}

/** `npm run build` when dist/ is missing or older than a source file (the harness runs what users run: dist/). */
export function ensureBuilt(log: (line: string) => void, force: boolean): void {
  const entry = `${repoRoot}dist/server.js`
  let stale = force
  try {
    stale ||= statSync(entry).mtimeMs < newestSource(`${repoRoot}src`)
  } catch {
    stale = true
  }
  if (!stale) return
  log('dist/ is missing or older than src/: npm run build')
  const result = spawnSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: 'inherit' })
  if (result.status === 0) return
  // tsc still emits on type errors; a tree mid-edit elsewhere should not stop a benchmark of what did build.
  try {
    statSync(entry)
    log('npm run build reported errors: benchmarking the dist/ it emitted')
  } catch {
    throw new Error('npm run build failed and there is no dist/server.js')
  }
}

/** One baseline server (`bench/harness/baseline-server.ts <mode>`): hello, proxy or hook. */
export async function startBaseline(mode: string, env: Record<string, string>): Promise<{ url: string; pid: number }> {
  const port = await freePort()
  const process_ = spawnNode(`${repoRoot}bench/harness/baseline-server.ts`, [mode], { PORT: String(port), ...env })
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(`${url}/healthz`, process_, `baseline ${mode}`)
  return { url, pid: process_.child.pid ?? 0 }
}

export async function setUp(
  profile: Profile,
  log: (line: string) => void,
  redisKind: BenchRedis['kind'] = 'single',
): Promise<RunContext> {
  const redis = await startBenchRedis(redisKind)
  try {
    return await startServers(profile, log, redis)
  } catch (error) {
    // The caller only stops what setUp returned: a half-started run must not leave its redis-server behind.
    await redis.dispose()
    throw error
  }
}

async function startServers(profile: Profile, log: (line: string) => void, redis: BenchRedis): Promise<RunContext> {
  const startedAt = Date.now()
  const simulator = await startSimulator({ bucketSize: UNLIMITED, leakRate: UNLIMITED })
  const bridgeSettings = { simulator, redisUrl: redis.url, bucketSize: UNLIMITED, leakRate: UNLIMITED }
  const [a, b, c, ...moreUncached] = await Promise.all([
    startBridge({ ...bridgeSettings, name: 'A' }),
    startBridge({ ...bridgeSettings, name: 'B', l1MaxBytes: 0 }),
    startBridge({ ...bridgeSettings, name: 'C' }),
    ...Array.from({ length: uncachedInstances(profile) - 1 }, (_, i) =>
      startBridge({ ...bridgeSettings, name: `C${i + 2}` }),
    ),
  ])
  if (!a || !b || !c) throw new Error('a bridge did not start')
  const uncached = [c, ...moreUncached]

  const upstream = async <T>(path: string): Promise<T> =>
    (await (await fetch(`${simulator.url}${path}`, { headers: simulator.headers })).json()) as T
  const { products } = await upstream<{ products: { external_product_id: string }[] }>('/products?limit=50')
  const ids = products.map((p) => p.external_product_id).sort()
  const productId = ids[0]
  if (!productId) throw new Error('the simulator has no products')
  // One token for the whole run (tokens live at most an hour; a full run takes minutes).
  const shopper = await benchShopper(simulator)

  // Fill the cache: bridge A stores L1 + L2, B and C then read the same Redis entry.
  const productResponse = await fetch(`${a.url}/v1/catalog/products/${encodeURIComponent(productId)}`)
  const productBody = await productResponse.text()
  if (!productResponse.ok) throw new Error(`catalog product → ${productResponse.status}: ${productBody}`)
  const spareProductIds = ids.slice(1)
  // The first two spares age past the TTL for the SWR and stale-if-error suites; the rest stay cold.
  const sparesCachedAt = Date.now()
  for (const id of spareProductIds.slice(0, 2)) {
    await (await fetch(`${a.url}/v1/catalog/products/${id}`)).arrayBuffer()
  }

  const proxySettings = { SIM_URL: simulator.url, SIM_TOKEN: simulator.apiToken }
  const [hello, proxy, hook, ...customerProxies] = await Promise.all([
    startBaseline('hello', { BASELINE_BODY: productBody }),
    startBaseline('proxy', proxySettings),
    startBaseline('hook', {}),
    ...uncached.map(() => startBaseline('proxy', proxySettings)),
  ])
  if (!hello || !proxy || !hook) throw new Error('a baseline did not start')
  return {
    profile,
    simulator,
    redis,
    bridges: { a, b, c, uncached },
    baselines: {
      hello: hello.url,
      proxy: proxy.url,
      customerProxies: customerProxies.map((server) => server.url),
      hook: hook.url,
    },
    pids: {
      hello: hello.pid,
      proxy: proxy.pid,
      customerProxies: customerProxies.map((server) => server.pid),
      uncached: uncached.map((bridge) => bridge.process.child.pid ?? 0),
      simulator: simulator.process.child.pid ?? 0,
      redis: redis.pid ?? 0,
      a: a.process.child.pid ?? 0,
      b: b.process.child.pid ?? 0,
    },
    productId,
    productBody,
    spareProductIds,
    sparesCachedAt,
    customer: { id: String(shopper.id), email: shopper.email, token: shopper.token },
    startedAt,
    log,
  }
}
