/**
 * An open-loop Poisson load generator over HTTP (autocannon is closed-loop per connection, and several autocannon
 * instances in one process fire in lock-step ticks, so their requests reach a FIFO queue in the same order every
 * time — which measures the generator, not the queue's fairness). Each target gets its own independent arrival
 * process; a request is sent at its arrival time whatever the others are doing.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { Pool } from 'undici'
import { percentile } from './load.ts'

export interface OpenLoopTarget {
  url: string
  path: string
  headers: Record<string, string>
  ratePerS: number
  /** A 200 whose body fails this is counted as a mismatch. */
  verify200: (body: string) => boolean
}

export interface OpenLoopResult {
  sent: number
  statuses: Record<string, number>
  /** First body (with Retry-After when present) of each non-200 status. */
  refusalSamples: Record<string, string>
  errors: number
  mismatches: number
  latencyMs: { p50: number; p99: number; max: number }
}

export async function openLoop(target: OpenLoopTarget, durationMs: number, startAt: number): Promise<OpenLoopResult> {
  const pool = new Pool(target.url, { connections: 512 })
  const statuses: Record<string, number> = {}
  const refusalSamples: Record<string, string> = {}
  const latencies: number[] = []
  let errors = 0
  let mismatches = 0
  let sent = 0
  const inFlight: Promise<void>[] = []
  const send = async () => {
    const began = performance.now()
    try {
      const response = await pool.request({ method: 'GET', path: target.path, headers: target.headers })
      const body = await response.body.text()
      latencies.push(performance.now() - began)
      const status = String(response.statusCode)
      statuses[status] = (statuses[status] ?? 0) + 1
      if (response.statusCode === 200 && !target.verify200(body)) mismatches++
      if (response.statusCode !== 200 && refusalSamples[status] === undefined) {
        const retryAfter = response.headers['retry-after']
        refusalSamples[status] = `${retryAfter ? `(Retry-After: ${retryAfter}) ` : ''}${body.slice(0, 400)}`
      }
    } catch {
      errors++
    }
  }
  await sleep(Math.max(0, startAt - Date.now()))
  const stopAt = startAt + durationMs
  // Absolute schedule: timer lag does not lower the offered rate.
  let next = startAt
  for (;;) {
    next += -Math.log(1 - Math.random()) * (1000 / target.ratePerS)
    if (next >= stopAt) break
    const delay = next - Date.now()
    if (delay > 1) await sleep(delay)
    sent++
    inFlight.push(send())
  }
  await Promise.all(inFlight)
  await pool.close()
  return {
    sent,
    statuses,
    refusalSamples,
    errors,
    mismatches,
    latencyMs: {
      p50: Math.round(percentile(latencies, 50)),
      p99: Math.round(percentile(latencies, 99)),
      max: Math.round(percentile(latencies, 100)),
    },
  }
}
