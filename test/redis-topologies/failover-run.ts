import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.ts'
import { tokenFingerprint } from '../../src/recharge/fingerprint.ts'
import { testConfig } from '../support/config.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'
import { metricTotal } from '../support/until.ts'

/**
 * A primary dies under load, for real: two bridge replicas share one Redis topology and a Recharge budget of
 * LEAK_RATE calls a second (the simulator enforces the same bucket over HTTP); admin customer lookups (never cached,
 * each one a Recharge call) arrive at ten times that rate, and shoppers' writes with an Idempotency-Key run beside
 * them. The topology's `kill` SIGKILLs the primary that holds the queue's budget book; the run goes on until the
 * replica is promoted and a few seconds beyond, then every write is sent again with the same key.
 *
 * What it measures, for the test to assert or report: every answer (none may be missing), the upstream 429s and the
 * writes each subscription received (the simulator's ledger), how the repeated writes were answered, and how long
 * after the promotion both replicas booked from the shared budget again.
 */
export const BUCKET = 20
export const LEAK_RATE = 10
/** Ten times the budget's rate. */
const REQUESTS_PER_SECOND = LEAK_RATE * 10
const BEFORE_KILL_MS = 3_000
const AFTER_PROMOTION_MS = 5_000
const WRITERS = 12
/** The admin key of testConfig(). */
const ADMIN_AUTH = { authorization: 'Bearer test-admin-key-0123456789abcdef' }

export interface FailoverTarget {
  /** Environment that points a bridge at the topology (REDIS_URL, or REDIS_SENTINELS + REDIS_SENTINEL_NAME). */
  env: Record<string, string>
  /** SIGKILL the primary holding `key` (the queue's budget book); resolves when it is dead. */
  kill(key: string): Promise<void>
  /** Resolves once a replica serves `key` as primary. */
  waitForPromotion(key: string): Promise<void>
}

export interface Answer {
  kind: 'read' | 'write' | 'retry'
  status: number
  code: string | undefined
  ms: number
}

export interface FailoverFigures {
  requests: number
  answers: Answer[]
  /** Answers that are neither a result nor one of the bridge's designed refusals (listed in `designed`). */
  failed: Answer[]
  /** Requests that had no answer when the run ended (a hang). */
  unanswered: number
  upstream429: number
  /** Subscriptions that received more than one write from Recharge's point of view. */
  duplicateWrites: string[]
  /** A repeated write whose answer contradicts its first (another result, or a write applied twice). */
  broken: string[]
  killAt: number
  promotedAt: number
  /** Milliseconds from the promotion until every replica booked from the shared budget again. */
  sharedAgainAfterMs: number | null
  degradedSeen: boolean
}

/** The bridge's designed refusals under overload or a Redis failover: each says what happened and when to retry. */
const DESIGNED = new Set(['UPSTREAM_BUSY', 'RATE_LIMITED', 'IDEMPOTENCY_STORE_UNAVAILABLE', 'IDEMPOTENCY_KEY_IN_USE'])

export async function runFailover(target: FailoverTarget): Promise<FailoverFigures> {
  const token = `sk_test_${randomBytes(4).toString('hex')}`
  const sim = await startTestSimulator({
    apiTokens: [token],
    bucketSize: BUCKET,
    leakRate: LEAK_RATE,
    seedCustomers: 30,
  })
  const prefix = `fo${randomBytes(3).toString('hex')}`
  const apps: FastifyInstance[] = []
  try {
    for (let index = 0; index < 2; index++) {
      const app = await buildApp(
        testConfig({
          RECHARGE_API_URL: sim.url,
          RECHARGE_API_TOKEN: token,
          RECHARGE_STORE_SUBDOMAIN: sim.storeSubdomain,
          RECHARGE_BUCKET_SIZE: String(BUCKET),
          RECHARGE_LEAK_RATE: String(LEAK_RATE),
          RECHARGE_EXPECTED_REPLICAS: '2',
          REDIS_KEY_PREFIX: prefix,
          ...target.env,
        }),
        { backgroundWorkers: false },
      )
      await app.ready()
      apps.push(app)
    }
    const gcraKey = `${prefix}:{${tokenFingerprint(token)}}:gcra`
    const writers = await prepareWriters(sim, apps[0] as FastifyInstance)
    // The minting above spent budget: start from a bucket that has leaked empty.
    await sleep((BUCKET / LEAK_RATE) * 1_000)

    const pending = new Set<Promise<void>>()
    const answers: Answer[] = []
    let sent = 0
    const send = (kind: Answer['kind'], request: () => Promise<{ statusCode: number; json(): unknown }>) => {
      sent += 1
      const started = Date.now()
      const promise = request().then(
        (response) => {
          const body = safeJson(response)
          answers.push({ kind, status: response.statusCode, code: body?.code, ms: Date.now() - started })
        },
        () => {
          answers.push({ kind, status: 0, code: 'THROWN', ms: Date.now() - started })
        },
      )
      const tracked = promise.finally(() => pending.delete(tracked))
      pending.add(tracked)
      return promise
    }
    const firstWrites = new Map<string, Promise<Answer>>()
    let lookup = 0
    let writer = 0
    let stopped = false
    const load = (async () => {
      const interval = 1_000 / REQUESTS_PER_SECOND
      while (!stopped) {
        const app = apps[sent % 2] as FastifyInstance
        if (sent % 10 === 5 && writer < writers.length) {
          const { auth, subscriptionId, key } = writers[writer++] as Writer
          firstWrites.set(key, writeOnce(send, app, auth, subscriptionId, key, 'write'))
        } else {
          // A customer lookup is never cached: each one is a Recharge call.
          const email = `fo-${lookup++}@failover.example`
          void send('read', () =>
            app.inject({ method: 'GET', url: `/v1/admin/customers?email=${email}`, headers: ADMIN_AUTH }),
          )
        }
        await sleep(interval)
      }
    })()

    await sleep(BEFORE_KILL_MS)
    const killAt = Date.now()
    await target.kill(gcraKey)
    let degradedSeen = false
    const watchDegraded = setInterval(async () => {
      for (const app of apps) if ((await limiterDegraded(app)) > 0) degradedSeen = true
    }, 50)
    await target.waitForPromotion(gcraKey)
    const promotedAt = Date.now()
    // Shared again: both replicas have left degraded mode (it is left only on a reservation that Redis answered).
    let sharedAgainAfterMs: number | null = null
    const sharedDeadline = promotedAt + 30_000
    while (Date.now() < sharedDeadline) {
      const degraded = await Promise.all(apps.map((app) => limiterDegraded(app)))
      if (degraded.every((value) => value === 0) && Date.now() - killAt > 200) {
        sharedAgainAfterMs = Date.now() - promotedAt
        break
      }
      await sleep(25)
    }
    clearInterval(watchDegraded)
    await sleep(Math.max(0, promotedAt + AFTER_PROMOTION_MS - Date.now()))
    stopped = true
    await load

    // Each write again with its key, once the dust settled: a replay, never a second write.
    await sleep(1_000)
    const broken: string[] = []
    for (const { auth, subscriptionId, key } of writers.filter((candidate) => firstWrites.has(candidate.key))) {
      const first = await firstWrites.get(key)
      const again = await writeOnce(send, apps[1] as FastifyInstance, auth, subscriptionId, key, 'retry')
      if (first && first.status === 200 && again.status !== 200 && again.code !== 'IDEMPOTENCY_STORE_UNAVAILABLE')
        broken.push(`${key}: first 200, then ${again.status} ${again.code ?? ''}`)
    }
    // Every request must have answered: wait a bounded time for stragglers, then count what is left.
    const settled = Promise.all([...pending])
    await Promise.race([settled, sleep(30_000)])
    const unanswered = pending.size

    const ledger = await sim.ledger()
    const upstream429 = ledger.filter((entry) => entry.status === 429).length
    const writesBySubscription = new Map<string, number>()
    for (const entry of ledger) {
      if (entry.method !== 'PUT' || !entry.path.startsWith('/subscriptions/')) continue
      if (entry.status === null || entry.status >= 400) continue
      writesBySubscription.set(entry.path, (writesBySubscription.get(entry.path) ?? 0) + 1)
    }
    const duplicateWrites = [...writesBySubscription].filter(([, count]) => count > 1).map(([path]) => path)
    const failed = answers.filter(
      (answer) => !(answer.status < 500 && answer.status !== 0) && !DESIGNED.has(answer.code ?? ''),
    )
    return {
      requests: sent,
      answers,
      failed,
      unanswered,
      upstream429,
      duplicateWrites,
      broken,
      killAt,
      promotedAt,
      sharedAgainAfterMs,
      degradedSeen,
    }
  } finally {
    await Promise.all(apps.map((app) => app.close()))
    await sim.close()
  }
}

interface Writer {
  auth: Record<string, string>
  subscriptionId: number
  key: string
}

/** Shoppers with an active subscription each, their tokens minted before the load starts. */
async function prepareWriters(sim: TestSimulator, app: FastifyInstance): Promise<Writer[]> {
  const state = await sim.state()
  const writers: Writer[] = []
  for (const customer of state.customers) {
    if (writers.length >= WRITERS) break
    const subscription = state.subscriptions.find((row) => row.customer_id === customer.id && row.status === 'active')
    if (!subscription) continue
    for (let attempt = 0; ; attempt++) {
      const minted = await app.inject({
        method: 'POST',
        url: '/v1/admin/customer-tokens',
        headers: ADMIN_AUTH,
        payload: { email: customer.email },
      })
      if (minted.statusCode === 201) {
        writers.push({
          auth: { authorization: `Bearer ${minted.json().token}` },
          subscriptionId: subscription.id,
          key: `fo-${randomBytes(6).toString('hex')}`,
        })
        break
      }
      if (attempt > 20) throw new Error(`could not mint a token: ${minted.statusCode} ${minted.body}`)
      await sleep(200)
    }
  }
  return writers
}

function writeOnce(
  send: (kind: Answer['kind'], request: () => Promise<{ statusCode: number; json(): unknown }>) => Promise<void>,
  app: FastifyInstance,
  auth: Record<string, string>,
  subscriptionId: number,
  key: string,
  kind: 'write' | 'retry',
): Promise<Answer> {
  let answer: Answer = { kind, status: 0, code: 'THROWN', ms: 0 }
  const started = Date.now()
  return send(kind, async () => {
    const response = await app.inject({
      method: 'PATCH',
      url: `/v1/subscriptions/${subscriptionId}`,
      headers: { ...auth, 'idempotency-key': key },
      payload: { quantity: 3 },
    })
    answer = { kind, status: response.statusCode, code: safeJson(response)?.code, ms: Date.now() - started }
    return response
  }).then(() => answer)
}

function limiterDegraded(app: FastifyInstance): Promise<number> {
  return metricTotal(app.metrics.registry, 'recharge_bridge_recharge_limiter_degraded')
}

function safeJson(response: { json(): unknown }): { code?: string } | undefined {
  try {
    return response.json() as { code?: string }
  } catch {
    return undefined
  }
}

/** The figures as a few lines for the run's output. */
export function describeFigures(topology: string, figures: FailoverFigures): string {
  const byOutcome = new Map<string, number>()
  for (const answer of figures.answers) {
    const label = `${answer.kind} ${answer.status}${answer.code ? ` ${answer.code}` : ''}`
    byOutcome.set(label, (byOutcome.get(label) ?? 0) + 1)
  }
  const failedShare = figures.requests === 0 ? 0 : (figures.failed.length / figures.requests) * 100
  return [
    `[failover ${topology}] requests ${figures.requests}, answered ${figures.answers.length}, unanswered ${figures.unanswered}`,
    `[failover ${topology}] failed ${figures.failed.length} (${failedShare.toFixed(2)} %), upstream 429s ${figures.upstream429}, duplicate upstream writes ${figures.duplicateWrites.length}`,
    `[failover ${topology}] promotion ${figures.promotedAt - figures.killAt} ms after the kill; shared budget used again ${figures.sharedAgainAfterMs ?? 'never'} ms after the promotion (degraded mode seen: ${figures.degradedSeen})`,
    `[failover ${topology}] answers: ${[...byOutcome].map(([label, count]) => `${label} ×${count}`).join(', ')}`,
  ].join('\n')
}
