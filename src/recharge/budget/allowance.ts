import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { RedisClient } from '../../plugins/redis.ts'

/**
 * Allowances: small GCRA buckets ("at most `burst` calls at once, refilling one call every `intervalMs`") that an
 * upstream call must fit in before it may book a slot in the store's bucket. Several allowances are taken together
 * or not at all (a client's own allowance and the public share), so a refusal by one never spends another.
 *
 * With Redis the book is shared by every replica: one Lua script, Redis `TIME` as the clock, keys under one
 * `{hash tag}` (the caller's prefix) so it runs unchanged on Redis Cluster. Without Redis, or when a command fails
 * or misses its reply deadline, the same arithmetic runs in process: limiting continues per replica, nothing waits.
 */

export interface Allowance {
  /** Full key (the store's prefix with its hash tag, then the allowance's name). */
  key: string
  /** Calls allowed at once. */
  burst: number
  /** One call is refilled every this many ms. */
  intervalMs: number
}

export type AllowanceDecision = { ok: true } | { ok: false; retryAfterMs: number; refusedBy: number }

export interface AllowanceStore {
  /** Take `cost` calls from every allowance, or from none (the refusal names the first that said no). */
  take(allowances: readonly Allowance[], cost?: number): Promise<AllowanceDecision>
}

/** Decide from stored TATs (ms); returns the new TATs when allowed. Shared by the in-process book and tests. */
function decide(
  tats: readonly number[],
  allowances: readonly Allowance[],
  cost: number,
  now: number,
): { decision: AllowanceDecision; next: number[] } {
  const next: number[] = []
  for (const [index, allowance] of allowances.entries()) {
    const tat = Math.max(tats[index] ?? 0, now) + cost * allowance.intervalMs
    const allowAt = tat - allowance.burst * allowance.intervalMs
    if (allowAt > now) return { decision: { ok: false, retryAfterMs: allowAt - now, refusedBy: index }, next: [] }
    next.push(tat)
  }
  return { decision: { ok: true }, next }
}

export class LocalAllowances implements AllowanceStore {
  private readonly tats = new LRUCache<string, number>({ max: 50_000 })
  private readonly now: () => number

  constructor(now: () => number = Date.now) {
    this.now = now
  }

  async take(allowances: readonly Allowance[], cost = 1): Promise<AllowanceDecision> {
    const now = this.now()
    const { decision, next } = decide(
      allowances.map((allowance) => this.tats.get(allowance.key) ?? 0),
      allowances,
      cost,
      now,
    )
    if (decision.ok) {
      for (const [index, allowance] of allowances.entries()) {
        this.tats.set(allowance.key, next[index] as number, { ttl: Math.ceil((next[index] as number) - now) + 1 })
      }
    }
    return decision
  }
}

/** KEYS: the allowances; ARGV[1]: cost; then (burst, interval) per key. Returns {1} or {0, retryAfterMs, index}. */
export const ALLOWANCE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cost = tonumber(ARGV[1])
local next = {}
for i = 1, #KEYS do
  local burst = tonumber(ARGV[2 * i])
  local interval = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  tat = tat + cost * interval
  local allowAt = tat - burst * interval
  if allowAt > now then return {0, math.ceil(allowAt - now), i - 1} end
  next[i] = tat
end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], string.format('%.3f', next[i]), 'PX', math.ceil(next[i] - now) + 1000)
end
return {1}
`
const SCRIPT_SHA = createHash('sha1').update(ALLOWANCE_SCRIPT).digest('hex')

export interface RedisAllowancesOptions {
  redis: RedisClient
  /** Told once per failure streak that Redis could not be used (the in-process book answers meanwhile). */
  onDegraded?: (error: unknown) => void
}

export class RedisAllowances implements AllowanceStore {
  private readonly redis: RedisClient
  private readonly local = new LocalAllowances()
  private readonly onDegraded: ((error: unknown) => void) | undefined
  private degraded = false

  constructor(options: RedisAllowancesOptions) {
    this.redis = options.redis
    this.onDegraded = options.onDegraded
  }

  async take(allowances: readonly Allowance[], cost = 1): Promise<AllowanceDecision> {
    if (!this.redis.isReady) return this.local.take(allowances, cost)
    const options = {
      keys: allowances.map((allowance) => allowance.key),
      arguments: [
        String(cost),
        ...allowances.flatMap((allowance) => [String(allowance.burst), String(allowance.intervalMs)]),
      ],
    }
    try {
      let reply: unknown
      try {
        reply = await this.redis.evalSha(SCRIPT_SHA, options)
      } catch (error) {
        if (!String((error as Error).message).includes('NOSCRIPT')) throw error
        reply = await this.redis.eval(ALLOWANCE_SCRIPT, options)
      }
      this.degraded = false
      const [ok, retryAfterMs = 0, refusedBy = 0] = (reply as unknown[]).map(Number)
      return ok === 1 ? { ok: true } : { ok: false, retryAfterMs, refusedBy }
    } catch (error) {
      if (!this.degraded) {
        this.degraded = true
        this.onDegraded?.(error)
      }
      return this.local.take(allowances, cost)
    }
  }
}
