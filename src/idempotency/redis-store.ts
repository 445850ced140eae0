import { randomUUID } from 'node:crypto'
import type { RedisClient } from '../infra/redis.ts'
import { waitForReplicas } from '../infra/redis-topology.ts'
import {
  type BeginResult,
  ClaimLostError,
  type IdempotencyStore,
  type IdempotencyTimings,
  parseEntry,
  type StoredEntry,
  type StoredResponse,
  toBeginResult,
} from './types.ts'

/**
 * Redis store shared by every replica. `begin` is one script: either it sets the reservation or it answers what holds
 * the key and its remaining time to live (a dispatched marker's age is its TTL's shortfall, on Redis's clock, so
 * replicas' clocks never matter). Every later step replaces the entry only if it still holds the caller's owner
 * token, so a request whose reservation expired can never overwrite or delete the entry of a later request.
 */
const beginScript = `
local current = redis.call('GET', KEYS[1])
if current then return {current, redis.call('PTTL', KEYS[1])} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {}
`

const replaceIfOwner = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local ok, entry = pcall(cjson.decode, current)
if not ok or entry.owner ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
`

/**
 * How many replicas must hold a dispatched marker before its write may be sent (REDIS_IDEMPOTENCY_REPLICAS), and how
 * long to wait for them (REDIS_IDEMPOTENCY_WAIT_MS). Replication is asynchronous: a marker only the primary had is lost
 * when a replica is promoted in its place, and a same-key retry would then send the write a second time.
 */
export interface IdempotencyReplication {
  replicas: number
  timeoutMs: number
}

/** Fewer replicas than required acknowledged a dispatched marker in time: the write must not be sent. */
export class ReplicationShortfallError extends Error {
  constructor(acknowledged: number, required: number, timeoutMs: number) {
    super(`${acknowledged} of ${required} Redis replicas acknowledged the idempotency marker within ${timeoutMs} ms`)
    this.name = 'ReplicationShortfallError'
  }
}

export class RedisIdempotencyStore implements IdempotencyStore {
  private readonly redis: RedisClient
  private readonly timings: IdempotencyTimings
  private readonly replication: IdempotencyReplication

  constructor(
    redis: RedisClient,
    timings: IdempotencyTimings,
    replication: IdempotencyReplication = { replicas: 0, timeoutMs: 0 },
  ) {
    this.redis = redis
    this.timings = timings
    this.replication = replication
  }

  /** `owner` may be chosen by the caller, so it knows the token even when no reply comes back. */
  async begin(key: string, fingerprint: string, owner: string = randomUUID()): Promise<BeginResult> {
    const marker: StoredEntry = { state: 'reserved', fingerprint, owner }
    const reply = (await this.redis.eval(beginScript, {
      keys: [key],
      arguments: [JSON.stringify(marker), String(this.timings.reserveTtlMs)],
    })) as [string, number] | []
    if (reply.length === 0) return { kind: 'started', owner }
    const [text, pttl] = reply
    const since = pttl < 0 ? this.timings.answerTtlMs : this.timings.answerTtlMs - Number(pttl)
    return toBeginResult(parseEntry(String(text)), fingerprint, since, this.timings)
  }

  async dispatch(key: string, owner: string, fingerprint: string): Promise<void> {
    const entry: StoredEntry = { state: 'dispatched', fingerprint, owner }
    if (!(await this.replace(key, owner, JSON.stringify(entry), this.timings.answerTtlMs))) throw new ClaimLostError()
    const { replicas, timeoutMs } = this.replication
    if (replicas === 0) return
    // The marker must survive the primary's death before anything is sent: on a replica, or not sent at all.
    const acknowledged = await waitForReplicas(this.redis, key, replicas, timeoutMs)
    if (acknowledged < replicas) throw new ReplicationShortfallError(acknowledged, replicas, timeoutMs)
  }

  async complete(key: string, owner: string, fingerprint: string, response: StoredResponse): Promise<void> {
    const entry: StoredEntry = { state: 'done', fingerprint, response }
    await this.replace(key, owner, JSON.stringify(entry), this.timings.answerTtlMs)
  }

  async release(key: string, owner: string): Promise<void> {
    await this.replace(key, owner, '', 0)
  }

  /** Take a key held by `holder` (a request of this replica known to have sent nothing) for a new owner. */
  async takeOver(key: string, holder: string, fingerprint: string, owner: string): Promise<boolean> {
    const marker: StoredEntry = { state: 'reserved', fingerprint, owner }
    return this.replace(key, holder, JSON.stringify(marker), this.timings.reserveTtlMs)
  }

  /** Put back what this replica remembers of a key Redis no longer has (Redis restarted without its data). */
  async restore(key: string, owner: string, entry: StoredEntry): Promise<boolean> {
    return this.replace(key, owner, JSON.stringify(entry), this.timings.answerTtlMs)
  }

  private async replace(key: string, owner: string, value: string, ttlMs: number): Promise<boolean> {
    const replaced = await this.redis.eval(replaceIfOwner, { keys: [key], arguments: [owner, value, String(ttlMs)] })
    return Number(replaced) === 1
  }
}
