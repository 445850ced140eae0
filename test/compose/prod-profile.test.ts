import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ComposeProject, docker, json, report, until } from './harness.ts'
import {
  adminMint,
  getSubscription,
  listSubscriptions,
  type PublicSubscription,
  portalHandOff,
  shopperHeaders,
  skippable,
  subscriptionAction,
} from './shopper.ts'

/**
 * `docker compose --profile prod up` without a .env: two replicas in production mode on one Redis and one
 * simulator, sharing secrets generated once into a volume. What an operator relies on: either replica serves any
 * shopper (one token secret), a write through one is what the other shows (one cache), the same Idempotency-Key
 * through both is one upstream write (one idempotency store), Redis dying under load is survived and recovered from,
 * and a replica stopped with SIGTERM finishes what it accepted.
 */
let project: ComposeProject
let one: string
let two: string
let simulator: string
let token: string

interface LedgerEntry {
  method: string
  path: string
  status: number
}

async function ledger(method: string): Promise<LedgerEntry[]> {
  return (await json<{ requests: LedgerEntry[] }>(await fetch(`${simulator}/__sim/requests?method=${method}`))).requests
}

async function adminKey(): Promise<string> {
  return (await project.compose(['exec', '-T', 'prod-1', 'cat', '/run/recharge-bridge/admin_api_key'])).trim()
}

beforeAll(async () => {
  project = await ComposeProject.create('prod')
  report('time to healthy, prod profile (redis, app, simulator, prod-1, prod-2)', (await project.up()).toFixed(1), 's')
  one = project.url('PROD_1_PORT')
  two = project.url('PROD_2_PORT')
  simulator = project.url('SIMULATOR_PORT')
})

afterAll(async () => {
  await project?.down()
})

describe('docker compose --profile prod up (no .env)', () => {
  it('runs both replicas in production mode against the one simulator, healthy, on 127.0.0.1 only', async () => {
    const services = (await project.compose(['ps', '--format', '{{.Service}} {{.Health}}'])).trim().split('\n')
    expect(services.sort()).toEqual([
      'app healthy',
      'prod-1 healthy',
      'prod-2 healthy',
      'redis healthy',
      'simulator healthy',
    ])
    expect(new Set(await project.publishedAddresses())).toEqual(new Set(['127.0.0.1']))
    for (const base of [one, two]) {
      expect((await fetch(`${base}/healthz`)).status).toBe(200)
      expect(await json(await fetch(`${base}/readyz`))).toMatchObject({ ready: true, checks: { redis: { ok: true } } })
      // Production mode: no demo storefront, no demo sign-in.
      expect((await fetch(`${base}/demo`)).status).toBe(404)
    }
  })

  it('shares one token secret: a token minted through one replica is accepted by the other', async () => {
    token = await adminMint(one, await adminKey())
    const throughOne = await listSubscriptions(one, token)
    expect(throughOne.length).toBeGreaterThan(0)
    expect(await listSubscriptions(two, token)).toEqual(throughOne)
    // The secrets are the volume's, not per container: both replicas read the same file.
    expect((await project.compose(['exec', '-T', 'prod-2', 'cat', '/run/recharge-bridge/admin_api_key'])).trim()).toBe(
      await adminKey(),
    )
  })

  it('shares one cache: a skip through one replica is what the other shows at once', async () => {
    const before = await skippable(one, token)
    // Warm the second replica's caches with the state before the write.
    expect((await getSubscription(two, token, before.id)).allowed_actions).not.toContain('unskip')
    const skip = await subscriptionAction(one, token, before.id, 'skip')
    expect(skip.status).toBe(200)
    const skipped = await json<PublicSubscription>(skip)
    expect(skipped.allowed_actions).toContain('unskip')
    expect(await getSubscription(two, token, before.id)).toMatchObject(skipped)
  })

  it('shares one idempotency store: the same Idempotency-Key through both replicas is one upstream write', async () => {
    const subscription = (await listSubscriptions(one, token)).find((row) => row.allowed_actions.includes('unskip'))
    if (!subscription) throw new Error('no skipped subscription to restore')
    const key = randomUUID()
    const writesBefore = (await ledger('POST')).length
    const [first, second] = await Promise.all([
      subscriptionAction(one, token, subscription.id, 'unskip', key),
      subscriptionAction(two, token, subscription.id, 'unskip', key),
    ])
    // One of the two may be told the first is still in progress (409); a retry then replays the stored answer.
    const statuses = [first.status, second.status].sort()
    expect([
      [200, 200],
      [200, 409],
    ]).toContainEqual(statuses)
    const replay = await subscriptionAction(two, token, subscription.id, 'unskip', key)
    expect(replay.status).toBe(200)
    // The shopper's writes only: a replica's webhook registration (POST /webhooks) may run at any moment after start-up.
    const writes = (await ledger('POST')).slice(writesBefore).filter((entry) => entry.path !== '/webhooks')
    expect(writes.filter((entry) => entry.path.endsWith('/unskip'))).toHaveLength(1)
    expect(writes).toHaveLength(1)
  })

  it('hands the shopper off to the hosted portal through either replica', async () => {
    for (const [base, port] of [
      [one, project.ports.PROD_1_PORT],
      [two, project.ports.PROD_2_PORT],
    ] as const) {
      const { link, portal } = await portalHandOff(base, token)
      expect(link.origin).toBe(`http://localhost:${port}`)
      // Production mode: Recharge's own portal host for the configured store, never the bridge.
      expect(portal).toMatch(
        /^https:\/\/simulator-store\.admin\.rechargeapps\.com\/portal\/[A-Za-z0-9_-]+\/subscriptions$/,
      )
    }
  })

  // Before the Redis kill: a replica stopped soon after Redis was killed can still spend longer than its grace period
  // closing (it then exits 1); that case is not settled, so this checks the ordinary deploy.
  it('finishes every request in flight when a replica is stopped with SIGTERM, and exits 0', async () => {
    // Slow upstream reads: the portal reference is read fresh from Recharge for every hand-off.
    await fetch(`${simulator}/__sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rules: [{ match: { method: 'GET', path: '/customers' }, latencyMs: 1_200 }] }),
    })
    try {
      // Three: earlier tests leave the shared bucket near full, where the queue spaces calls 0.5 s apart; the third
      // is sent 1 s after the first and, with the injected latency, still answers inside the 3 s interactive deadline.
      const inFlight = Array.from({ length: 3 }, () =>
        fetch(`${two}/v1/portal/url`, { headers: shopperHeaders(token), signal: AbortSignal.timeout(30_000) }).then(
          async (response) => ({ status: response.status, body: await response.text() }),
          (error: Error) => ({ status: error.name, body: '' }),
        ),
      )
      await sleep(500)
      const stopped = project.compose(['stop', '--timeout', '30', 'prod-2'])
      const results = await Promise.all(inFlight)
      await stopped
      expect(results.map((result) => result.status)).toEqual([200, 200, 200])
      for (const result of results) expect(JSON.parse(result.body).url).toMatch(/\/portal\/[A-Za-z0-9_-]+\//)
      const id = await project.containerId('prod-2')
      const exitCode = (await docker(['inspect', '--format', '{{.State.ExitCode}}', id])).trim()
      const logs = exitCode === '0' ? '' : await project.compose(['logs', '--no-color', '--tail', '30', 'prod-2'])
      expect(exitCode, logs).toBe('0')
      // The other replica carries on.
      expect((await fetch(`${one}/readyz`)).status).toBe(200)
    } finally {
      await fetch(`${simulator}/__sim/faults`, { method: 'DELETE' })
    }
  })

  it('takes a stopped replica back: started again, it serves the same shopper with the same token', async () => {
    await project.compose(['start', 'prod-2'])
    await until(async () => (await fetch(`${two}/readyz`)).status === 200, 120_000, 'prod-2 ready after a restart')
    expect(await listSubscriptions(two, token)).toEqual(await listSubscriptions(one, token))
  })

  it('keeps serving while Redis is killed under load, and is ready again once Redis is back', async () => {
    const outcomes: { phase: string; status: number | string }[] = []
    let phase = 'before'
    let running = true
    const worker = async (base: string) => {
      while (running) {
        try {
          const response = await fetch(`${base}/v1/subscriptions`, {
            headers: shopperHeaders(token),
            signal: AbortSignal.timeout(15_000),
          })
          await response.arrayBuffer()
          outcomes.push({ phase, status: response.status })
        } catch (error) {
          outcomes.push({ phase, status: (error as Error).name })
        }
      }
    }
    const workers = [one, two, one, two].map(worker)
    await sleep(1_000)
    phase = 'redis down'
    await project.compose(['kill', 'redis'])
    await sleep(5_000)
    phase = 'redis restarting'
    await project.compose(['start', 'redis'])
    await until(
      async () => {
        const ready = await Promise.all([one, two].map(async (base) => (await fetch(`${base}/readyz`)).status))
        return ready.every((status) => status === 200)
      },
      60_000,
      'both replicas ready after Redis restarted',
    )
    phase = 'after'
    await sleep(2_000)
    running = false
    await Promise.all(workers)

    const count = (which: string, ok: (status: number | string) => boolean) =>
      outcomes.filter((outcome) => outcome.phase === which && ok(outcome.status)).length
    const notOk = outcomes.filter((outcome) => outcome.status !== 200)
    report(
      'Redis killed for 5 s under load',
      `${outcomes.length} requests, ${notOk.length} not 200 (${JSON.stringify(
        Object.fromEntries(
          ['before', 'redis down', 'redis restarting', 'after'].map((p) => [p, count(p, (s) => s !== 200)]),
        ),
      )})`,
    )
    expect(count('redis down', () => true)).toBeGreaterThan(0)
    expect(count('after', () => true)).toBeGreaterThan(0)
    // Never a hang or a crash: every answer is a status, and only 200 or a clean 503 while Redis is away.
    expect(outcomes.filter((outcome) => typeof outcome.status !== 'number')).toEqual([])
    expect(outcomes.filter((outcome) => outcome.status !== 200 && outcome.status !== 503)).toEqual([])
    expect(count('before', (status) => status !== 200)).toBe(0)
    expect(count('after', (status) => status !== 200)).toBe(0)
  })
})
