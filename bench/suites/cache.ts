/**
 * The cache under the conditions that break other caches, on 3 bridge replicas sharing one Redis, with upstream
 * calls counted in the simulator's ledger:
 *  - stampede: N concurrent requests per replica for one cold key → how many upstream calls;
 *  - SWR: load on all replicas when an entry is past its TTL → how many refreshes, served as what;
 *  - stale-if-error: the same, with every upstream read of that product failing (503);
 *  - Redis killed under load: the harness's redis-server SIGKILLed mid-run and restarted.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { BENCH_WEBHOOK_SECRET } from '../harness/bridge.ts'
import { runLoad } from '../harness/load.ts'
import type { GoalResult, RunContext } from '../harness/types.ts'
import { signedWebhookHeaders } from '../harness/webhook-signature.ts'

export interface StampedeTrial {
  pageLimit: number
  requests: number
  ok: number
  distinctBodies: number
  upstreamCalls: number
  /** When each upstream call arrived, ms after the first (a second call after the first completed is a refill). */
  upstreamCallOffsetsMs: number[]
}

export interface ServeUnderExpiry {
  productId: string
  entryAgeS: number
  requests: number
  ok: number
  xCache: Record<string, number>
  upstreamCalls: number
  upstreamFailures: number
  p99: number
  max: number
  errors: number
  timeouts: number
  mismatches: number
}

export interface RedisKillResult {
  bridge: string
  loadS: number
  killAtS: number
  restartAtS: number
  requests: number
  non2xx: number
  non2xxDuringOutage: number
  non2xxAfterRestart: number
  errors: number
  timeouts: number
  mismatches: number
  p99: number
  maxLatencyMs: number
  readyAfterRestartMs: number | null
  /** Responses per second of the run, with their non-2xx count (the shape of the outage). */
  perSecond: { second: number; responses: number; non2xx: number }[]
}

export interface InvalidationTrial {
  productId: string
  /** The replica the webhook was delivered to. */
  receiver: string
  /** Webhook POST → 200, ms. */
  ackMs: number
  /** After the ack: when each replica (A, B, C) first served the changed product, ms. */
  servedNewAfterAckMs: (number | null)[]
  /** X-Cache of the answers that still carried the old product, per replica (how the old version was served). */
  oldAnswers: Record<string, number>[]
}

export interface CacheResult {
  stampede: { replicas: number; perReplica: number; trials: StampedeTrial[] }
  swr: ServeUnderExpiry | null
  staleIfError: ServeUnderExpiry | null
  redisKill: RedisKillResult
  invalidation: InvalidationTrial[]
  goals: GoalResult[]
}

const CATALOG_TTL_MS = 60_000
const STAMPEDE_PER_REPLICA = 200

async function stampede(run: RunContext, pageLimit: number): Promise<StampedeTrial> {
  const replicas = [run.bridges.a, run.bridges.b, run.bridges.c]
  const before = (await listCalls(run, pageLimit)).length
  const requests = replicas.flatMap((bridge) =>
    Array.from({ length: STAMPEDE_PER_REPLICA }, async () => {
      const response = await fetch(`${bridge.url}/v1/catalog/products?limit=${pageLimit}`)
      return { status: response.status, body: await response.text() }
    }),
  )
  const answers = await Promise.all(requests)
  const calls = (await listCalls(run, pageLimit)).slice(before)
  const first = calls.length > 0 ? Date.parse(calls[0]?.at ?? '') : 0
  return {
    pageLimit,
    requests: answers.length,
    ok: answers.filter((answer) => answer.status === 200).length,
    distinctBodies: new Set(answers.map((answer) => answer.body)).size,
    upstreamCalls: calls.length,
    upstreamCallOffsetsMs: calls.map((call) => Date.parse(call.at) - first),
  }
}

/** Upstream product list reads with this page size (the catalog page's cache key includes it). */
async function listCalls(run: RunContext, pageLimit: number) {
  return (await run.simulator.ledger('/products')).filter((entry) => entry.query.limit === String(pageLimit))
}

/** Load on all three replicas at once for a product whose entry is past its TTL. */
async function serveExpired(run: RunContext, productId: string, durationS: number): Promise<ServeUnderExpiry> {
  const path = `/products/${productId}`
  const ledgerBefore = await run.simulator.ledger(path)
  const xCache: Record<string, number> = {}
  const verifyBody = (body: string) => {
    try {
      return (
        (JSON.parse(body) as { product?: { external_product_id?: string } }).product?.external_product_id === productId
      )
    } catch {
      return false
    }
  }
  const entryAgeS = Math.round((Date.now() - run.sparesCachedAt) / 1000)
  const samples = await Promise.all(
    [run.bridges.a, run.bridges.b, run.bridges.c].map((bridge) =>
      runLoad(
        { url: `${bridge.url}/v1/catalog/products/${productId}`, verifyBody },
        {
          connections: 10,
          durationS,
          onResponse: (_status, headers) => {
            const state = headers['x-cache'] ?? 'none'
            xCache[state] = (xCache[state] ?? 0) + 1
          },
        },
      ),
    ),
  )
  const ledgerAfter = await run.simulator.ledger(path)
  const fresh = ledgerAfter.slice(ledgerBefore.length)
  const requests = samples.reduce((n, s) => n + s.requests, 0)
  return {
    productId,
    entryAgeS,
    requests,
    ok: requests - samples.reduce((n, s) => n + s.non2xx, 0),
    xCache,
    upstreamCalls: fresh.length,
    upstreamFailures: fresh.filter((entry) => entry.status !== null && entry.status >= 500).length,
    p99: Math.max(...samples.map((s) => s.p99)),
    max: Math.max(...samples.map((s) => s.max)),
    errors: samples.reduce((n, s) => n + s.errors, 0),
    timeouts: samples.reduce((n, s) => n + s.timeouts, 0),
    mismatches: samples.reduce((n, s) => n + s.mismatches, 0),
  }
}

/**
 * A product changes in Recharge and Recharge sends product/updated: how long until every replica serves the change?
 * The product is cached on all three replicas (A and C in L1, B in Redis) first; the change is made in the simulator
 * (so without invalidation the old document would be served until its TTL), then the signed webhook goes to one
 * replica (C, then A, then B); A, B and C are polled every 10 ms from the acknowledgement on.
 */
async function invalidationAfterWebhook(run: RunContext, productId: string, trial: number): Promise<InvalidationTrial> {
  const replicas = [run.bridges.a, run.bridges.b, run.bridges.c]
  const url = (bridge: { url: string }) => `${bridge.url}/v1/catalog/products/${encodeURIComponent(productId)}`
  for (const bridge of replicas) {
    for (let i = 0; i < 2; i++) await (await fetch(url(bridge))).arrayBuffer()
  }
  const title = `Bench roast ${trial} ${Date.now().toString(36)}`
  const updated = await fetch(`${run.simulator.url}/products/${encodeURIComponent(productId)}`, {
    method: 'PUT',
    headers: { ...run.simulator.headers, 'content-type': 'application/json' },
    body: JSON.stringify({ product: { title } }),
  })
  const body = await updated.text()
  if (!updated.ok) throw new Error(`simulator PUT /products/${productId} → ${updated.status}: ${body}`)
  const sent = Date.now()
  // The delivery goes to a different replica each trial (C, A, B): Recharge reaches whichever the load balancer picks.
  const receiver = replicas[(trial + 1) % replicas.length] ?? run.bridges.c
  const ack = await fetch(`${receiver.url}/v1/webhooks/recharge?topic=product/updated`, {
    method: 'POST',
    headers: signedWebhookHeaders(BENCH_WEBHOOK_SECRET, 'product/updated', body),
    body,
  })
  await ack.arrayBuffer()
  const ackedAt = Date.now()
  if (!ack.ok) throw new Error(`webhook → ${ack.status}`)
  const oldAnswers = replicas.map(() => ({}) as Record<string, number>)
  const servedNewAfterAckMs = await Promise.all(
    replicas.map(async (bridge, index) => {
      while (Date.now() - ackedAt < 10_000) {
        const response = await fetch(url(bridge))
        const text = await response.text()
        if (text.includes(title)) return Date.now() - ackedAt
        const states = oldAnswers[index] as Record<string, number>
        const state = response.headers.get('x-cache') ?? 'none'
        states[state] = (states[state] ?? 0) + 1
        await sleep(10)
      }
      return null
    }),
  )
  return { productId, receiver: receiver.name, ackMs: ackedAt - sent, servedNewAfterAckMs, oldAnswers }
}

async function redisKilledUnderLoad(run: RunContext): Promise<RedisKillResult> {
  const { loadS, killAtS, restartAtS } = run.profile.redisKill
  const bridge = run.bridges.b
  const url = `${bridge.url}/v1/catalog/products/${encodeURIComponent(run.productId)}`
  const started = Date.now()
  const perSecond = new Map<number, { responses: number; non2xx: number }>()
  let killedAt = Number.POSITIVE_INFINITY
  let restartedAt = Number.POSITIVE_INFINITY
  let non2xxDuringOutage = 0
  let non2xxAfterRestart = 0
  let readyAfterRestartMs: number | null = null
  const faults = (async () => {
    await sleep(killAtS * 1000)
    killedAt = Date.now()
    await run.redis.stop()
    run.log(`  redis-server killed at ${((killedAt - started) / 1000).toFixed(1)} s`)
    await sleep(Math.max(0, started + restartAtS * 1000 - Date.now()))
    await run.redis.restart()
    restartedAt = Date.now()
    run.log(`  redis-server restarted at ${((restartedAt - started) / 1000).toFixed(1)} s`)
    // Recovery: the replica reports ready again (its Redis check passes).
    while (Date.now() - restartedAt < 30_000) {
      const response = await fetch(`${bridge.url}/readyz`).catch(() => null)
      await response?.arrayBuffer()
      if (response?.ok) {
        readyAfterRestartMs = Date.now() - restartedAt
        break
      }
      await sleep(50)
    }
  })()
  const sample = await runLoad(
    { url, expectBody: run.productBody },
    {
      connections: run.profile.connections,
      durationS: loadS,
      onResponse: (status) => {
        const now = Date.now()
        const second = Math.floor((now - started) / 1000)
        const bucket = perSecond.get(second) ?? { responses: 0, non2xx: 0 }
        bucket.responses++
        if (status < 200 || status >= 300) {
          bucket.non2xx++
          if (now >= restartedAt) non2xxAfterRestart++
          else if (now >= killedAt) non2xxDuringOutage++
        }
        perSecond.set(second, bucket)
      },
    },
  )
  await faults
  return {
    bridge: 'B (L1 off: every read needs Redis or the upstream)',
    loadS,
    killAtS,
    restartAtS,
    requests: sample.requests,
    non2xx: sample.non2xx,
    non2xxDuringOutage,
    non2xxAfterRestart,
    errors: sample.errors,
    timeouts: sample.timeouts,
    mismatches: sample.mismatches,
    p99: sample.p99,
    maxLatencyMs: sample.max,
    readyAfterRestartMs,
    perSecond: [...perSecond.entries()].sort(([a], [b]) => a - b).map(([second, v]) => ({ second, ...v })),
  }
}

export async function cacheSuite(run: RunContext): Promise<CacheResult> {
  // Stampede: a page size nobody asked for yet is a cold key on every replica and in Redis.
  await (await fetch(`${run.bridges.a.url}/v1/catalog/products?limit=2`)).arrayBuffer() // plan index and store warm
  const trials: StampedeTrial[] = []
  for (const pageLimit of [3, 4, 5, 6, 7]) trials.push(await stampede(run, pageLimit))
  run.log(
    `  stampede: upstream calls per trial ${trials.map((t) => t.upstreamCalls).join(', ')} for ${trials[0]?.requests} requests each`,
  )

  // SWR and stale-if-error need entries past the catalog's TTL.
  const waitMs = run.sparesCachedAt + CATALOG_TTL_MS + 1_000 - Date.now()
  if (waitMs > 0) {
    run.log(`  waiting ${Math.ceil(waitMs / 1000)} s for the catalog TTL to pass`)
    await sleep(waitMs)
  }
  const [swrProduct, sieProduct] = run.spareProductIds
  const swr = swrProduct ? await serveExpired(run, swrProduct, 2) : null
  if (swr)
    run.log(
      `  SWR: ${swr.requests} requests, X-Cache ${JSON.stringify(swr.xCache)}, upstream calls ${swr.upstreamCalls}`,
    )
  let staleIfError: ServeUnderExpiry | null = null
  if (sieProduct) {
    await run.simulator.setFaults([{ match: { path: `/products/${sieProduct}` }, status: 503 }])
    try {
      staleIfError = await serveExpired(run, sieProduct, 2)
    } finally {
      await run.simulator.clearFaults()
    }
    run.log(
      `  stale-if-error: ${staleIfError.ok}/${staleIfError.requests} 2xx, X-Cache ${JSON.stringify(staleIfError.xCache)}, failed refreshes ${staleIfError.upstreamFailures}`,
    )
  }

  const invalidation: InvalidationTrial[] = []
  const invalidationProduct = run.spareProductIds[2]
  if (invalidationProduct) {
    for (let trial = 1; trial <= 3; trial++)
      invalidation.push(await invalidationAfterWebhook(run, invalidationProduct, trial))
    run.log(
      `  invalidation after a webhook: ms after the ack until A/B/C served the change ${invalidation.map((t) => t.servedNewAfterAckMs.join('/')).join(', ')}`,
    )
  }

  const redisKill = await redisKilledUnderLoad(run)
  run.log(
    `  redis killed: ${redisKill.non2xx} non-2xx of ${redisKill.requests}, max latency ${redisKill.maxLatencyMs} ms, ready ${redisKill.readyAfterRestartMs} ms after restart`,
  )

  const maxStampedeCalls = Math.max(...trials.map((trial) => trial.upstreamCalls))
  const propagation = invalidation.flatMap((trial) => trial.servedNewAfterAckMs)
  const worstPropagation = propagation.some((ms) => ms === null) ? null : Math.max(...(propagation as number[]))
  const goals: GoalResult[] = [
    {
      id: 'C1',
      goal: `stampede: 3 replicas × ${STAMPEDE_PER_REPLICA} concurrent requests for one cold key → 1 upstream call`,
      value: maxStampedeCalls,
      unit: 'upstream calls',
      target: 1,
      comparison: '<=',
      pass:
        maxStampedeCalls === 1 && trials.every((trial) => trial.ok === trial.requests && trial.distinctBodies === 1),
    },
    {
      id: 'C2',
      goal: 'SWR: entry past its TTL under load on 3 replicas → 1 refresh, every answer 200',
      value: swr?.upstreamCalls ?? null,
      unit: 'refreshes',
      target: 1,
      comparison: '<=',
      pass: swr ? swr.upstreamCalls === 1 && swr.ok === swr.requests && swr.mismatches === 0 : null,
    },
    {
      id: 'C3',
      goal: 'stale-if-error: upstream 503 on every refresh → 100 % 200 (stale)',
      value: staleIfError ? round3(staleIfError.ok / Math.max(1, staleIfError.requests)) : null,
      unit: 'share 2xx',
      target: 1,
      comparison: '>=',
      pass: staleIfError ? staleIfError.ok === staleIfError.requests && staleIfError.mismatches === 0 : null,
    },
    {
      id: 'C4',
      goal: 'Redis killed under load: 0 hung requests, error rate ≤ 0.1 %, ready ≤ 2 s after restart',
      value: Number(((redisKill.non2xx + redisKill.errors) / Math.max(1, redisKill.requests)).toFixed(5)),
      unit: 'error rate',
      target: 0.001,
      comparison: '<=',
      pass:
        redisKill.timeouts === 0 &&
        (redisKill.non2xx + redisKill.errors) / Math.max(1, redisKill.requests) <= 0.001 &&
        redisKill.readyAfterRestartMs !== null &&
        redisKill.readyAfterRestartMs <= 2_000,
      note: `max latency ${redisKill.maxLatencyMs} ms; ready ${redisKill.readyAfterRestartMs ?? 'never'} ms after restart`,
    },
  ]
  goals.push({
    id: 'C5b',
    goal: 'a product/updated webhook: every replica (L1 and Redis) serves the change ≤ 1 s after the ack',
    value: worstPropagation,
    unit: 'ms (worst replica, worst trial)',
    target: 1000,
    comparison: '<=',
    pass: invalidation.length === 0 ? null : worstPropagation !== null && worstPropagation <= 1000,
  })
  return {
    invalidation,
    stampede: { replicas: 3, perReplica: STAMPEDE_PER_REPLICA, trials },
    swr,
    staleIfError,
    redisKill,
    goals,
  }
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000
}
