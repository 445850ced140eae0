/**
 * One shopper opening their account page, as each system serves it, and an open-loop slice of such page loads.
 *
 * - Bridge: `POST /v1/admin/customer-tokens {email}` (the merchant's backend mints the shopper's token), then
 *   `GET /v1/me`, `GET /v1/subscriptions` and `GET /v1/charges` with it, the three at once (as the page's script
 *   fires them).
 * - Plain proxy (reply-from adding the token): it has no tokens and no identity, so the merchant's backend already
 *   knows the customer id; the page is the same upstream reads, at once: `GET /customers/<id>`,
 *   `GET /subscriptions?customer_id=<id>` and `GET /charges?customer_id=<id>&status=queued`.
 *
 * A page is fully answered when every one of its requests answered 2xx (201 for the token, 200 for the reads).
 */

import { percentile } from '../../harness/load.ts'
import type { SimulatorProcess } from '../../harness/simulator.ts'
import { adminHeaders, type Shopper, sleep } from './stack.ts'

export interface PageOutcome {
  ok: boolean
  latencyMs: number
  /** Status of each request of the page, in order (0: no answer). */
  statuses: number[]
  /** The first answer that was not 2xx: its status, Retry-After and the start of its body. */
  refusal?: string
}

interface Answer {
  path: string
  status: number
  body: string
  retryAfter?: string | null
}

function refusalOf(answers: Answer[]): string | undefined {
  const refused = answers.find((answer) => answer.status < 200 || answer.status > 299)
  if (!refused) return undefined
  const retry = refused.retryAfter ? ` (Retry-After: ${refused.retryAfter})` : ''
  return `${refused.status} ${refused.path.split('?')[0]}${retry} ${refused.body.slice(0, 300)}`
}

/** The first body of each refused status. */
export function refusalSamples(outcomes: PageOutcome[]): Record<string, string> {
  const samples: Record<string, string> = {}
  for (const outcome of outcomes) {
    const status = outcome.refusal?.split(' ')[0]
    if (status && samples[status] === undefined) samples[status] = outcome.refusal as string
  }
  return samples
}

const TIMEOUT_MS = 60_000

async function request(base: string, path: string, init: RequestInit = {}): Promise<Answer> {
  try {
    const response = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) })
    const body = await response.text()
    return { path, status: response.status, body, retryAfter: response.headers.get('retry-after') }
  } catch (error) {
    return { path, status: 0, body: error instanceof Error ? error.message : String(error) }
  }
}

export async function bridgePage(bridgeUrl: string, shopper: Shopper): Promise<PageOutcome> {
  const began = performance.now()
  const minted = await request(bridgeUrl, '/v1/admin/customer-tokens', {
    method: 'POST',
    headers: { ...adminHeaders, 'content-type': 'application/json' },
    body: JSON.stringify({ email: shopper.email }),
  })
  if (minted.status !== 201) {
    return { ok: false, latencyMs: performance.now() - began, statuses: [minted.status], refusal: refusalOf([minted]) }
  }
  const { token } = JSON.parse(minted.body) as { token: string }
  const headers = { authorization: `Bearer ${token}` }
  const reads = await Promise.all(
    ['/v1/me', '/v1/subscriptions', '/v1/charges'].map((path) => request(bridgeUrl, path, { headers })),
  )
  const statuses = [minted.status, ...reads.map((read) => read.status)]
  const ok = reads.every((read) => read.status === 200)
  return { ok, latencyMs: performance.now() - began, statuses, ...(ok ? {} : { refusal: refusalOf(reads) }) }
}

export async function proxyPage(proxyUrl: string, shopper: Shopper): Promise<PageOutcome> {
  const began = performance.now()
  const reads = await Promise.all(
    [
      `/customers/${shopper.id}`,
      `/subscriptions?customer_id=${shopper.id}`,
      `/charges?customer_id=${shopper.id}&status=queued`,
    ].map((path) => request(proxyUrl, path)),
  )
  const ok = reads.every((read) => read.status === 200)
  return {
    ok,
    latencyMs: performance.now() - began,
    statuses: reads.map((read) => read.status),
    ...(ok ? {} : { refusal: refusalOf(reads) }),
  }
}

export interface SliceResult {
  pages: number
  fullyAnswered: number
  fullyAnsweredShare: number
  latencyMs: { p50: number; p99: number; max: number }
  /** How often each status came back, over every request of every page. */
  statuses: Record<string, number>
  /** The first refused answer of each status. */
  refusalSamples: Record<string, string>
  /** Upstream requests the simulator received from the system during the slice (ledger), per page. */
  upstreamCalls: number
  upstreamCallsPerPage: number
  upstream429: number
  /** From the first arrival to the last page answered. */
  wallS: number
}

/**
 * Open loop: `shoppers.length` arrivals, Poisson at `ratePerS` (exponential gaps on an absolute schedule), each page
 * sent at its arrival time whatever the others are doing, to `targets` in turn (a load balancer's round robin). The
 * simulator's ledger is cleared first; afterwards the system's upstream requests are counted in it, leaving out the
 * mirror's own background reads (`updated_at_min` reconciliation, webhook registration checks), which are not the
 * page's.
 */
export async function runSlice(
  simulator: SimulatorProcess,
  shoppers: Shopper[],
  ratePerS: number,
  targets: string[],
  page: (target: string, shopper: Shopper) => Promise<PageOutcome>,
): Promise<SliceResult> {
  await fetch(`${simulator.url}/__sim/requests`, { method: 'DELETE' })
  const inFlight: Promise<PageOutcome>[] = []
  const startAt = Date.now() + 200
  let next = startAt
  for (const [index, shopper] of shoppers.entries()) {
    next += -Math.log(1 - Math.random()) * (1000 / ratePerS)
    const delay = next - Date.now()
    if (delay > 1) await sleep(delay)
    inFlight.push(page(targets[index % targets.length] as string, shopper))
  }
  const outcomes = await Promise.all(inFlight)
  const wallS = (Date.now() - startAt) / 1000
  const entries = (await simulator.ledger()).filter(
    (entry) => entry.path !== '/webhooks' && entry.query.updated_at_min === undefined,
  )
  const statuses: Record<string, number> = {}
  for (const outcome of outcomes) {
    for (const status of outcome.statuses) statuses[String(status)] = (statuses[String(status)] ?? 0) + 1
  }
  const latencies = outcomes.map((outcome) => outcome.latencyMs)
  const fullyAnswered = outcomes.filter((outcome) => outcome.ok).length
  return {
    pages: outcomes.length,
    fullyAnswered,
    fullyAnsweredShare: outcomes.length === 0 ? 0 : fullyAnswered / outcomes.length,
    latencyMs: {
      p50: Math.round(percentile(latencies, 50)),
      p99: Math.round(percentile(latencies, 99)),
      max: Math.round(percentile(latencies, 100)),
    },
    statuses,
    refusalSamples: refusalSamples(outcomes),
    upstreamCalls: entries.length,
    upstreamCallsPerPage: outcomes.length === 0 ? 0 : entries.length / outcomes.length,
    upstream429: entries.filter((entry) => entry.status === 429).length,
    wallS: Math.round(wallS * 10) / 10,
  }
}
