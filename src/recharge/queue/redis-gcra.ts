import { createHash } from 'node:crypto'
import type { RedisClient } from '../../plugins/redis.ts'
import { type GcraParams, type GcraStore, pollDelay, type Reservation, type ReserveRequest } from './gcra.ts'

/**
 * The shared reservation book: one Lua script per operation, atomic in Redis, with Redis `TIME` as the only clock
 * (replica clocks never matter). Keys share the `{<token fingerprint>}` hash tag so the script runs unchanged on
 * Redis Cluster. Semantics are those of LocalGcra (gcra.ts); the script returns [status, ms]:
 *   reserve: [1, wait, 0, level] booked · [0, retryAfter] rejected · [2, headWait-or-estimate, rank] queued
 *   (background line); `level` is TAT - now after the booking, in ms
 */
export const GCRA_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local op = ARGV[1]
local interval = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local function store(value)
  redis.call('SET', KEYS[1], string.format('%.3f', value), 'PX', ttl)
end
local function forget(ticket)
  redis.call('ZREM', KEYS[2], ticket)
  redis.call('HDEL', KEYS[3], ticket)
end

if op == 'penalty' or op == 'reconcile' then
  local level = now + tonumber(ARGV[4]) * interval
  if level > tat then store(level) return {1, math.ceil(level - now)} end
  return {0, math.ceil(tat - now)}
end
if op == 'leave' then
  forget(ARGV[4])
  return {1, 0}
end

local lane = ARGV[4]
local tau = tonumber(ARGV[5])
local maxWait = tonumber(ARGV[6])
local wait = tat - tau - now
if wait < 0 then wait = 0 end
if lane == 'interactive' then
  if wait > maxWait then return {0, math.ceil(wait)} end
  store(tat + interval)
  return {1, math.ceil(wait), 0, math.ceil(tat + interval - now)}
end

local ticket = ARGV[7]
local horizon = tonumber(ARGV[8])
local stale = tonumber(ARGV[9])
redis.call('HSET', KEYS[3], ticket, now)
if not redis.call('ZSCORE', KEYS[2], ticket) then
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[4]), ticket)
end
while true do
  local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if (not head) or head == ticket then break end
  local last = tonumber(redis.call('HGET', KEYS[3], head) or '0')
  if now - last <= stale then break end
  forget(head)
end
local rank = redis.call('ZRANK', KEYS[2], ticket)
if rank == 0 and wait <= horizon then
  forget(ticket)
  store(tat + interval)
  return {1, math.ceil(wait), 0, math.ceil(tat + interval - now)}
end
local estimate = wait - horizon
if estimate < 0 then estimate = 0 end
estimate = estimate + rank * interval
if estimate > maxWait then
  forget(ticket)
  return {0, math.ceil(estimate)}
end
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
redis.call('PEXPIRE', KEYS[4], ttl)
return {2, math.ceil(wait - horizon), rank}
`

const SCRIPT_SHA = createHash('sha1').update(GCRA_SCRIPT).digest('hex')

/** Keys live a while past the longest booking horizon, then vanish on their own. */
const KEY_TTL_MS = 10 * 60_000

export interface RedisGcraOptions {
  redis: RedisClient
  /** `rb:{<token fingerprint>}`: every key of one budget shares this hash tag. */
  keyPrefix: string
  params: GcraParams
}

export class RedisGcra implements GcraStore {
  readonly params: GcraParams
  private readonly redis: RedisClient
  private readonly keys: string[]

  constructor(options: RedisGcraOptions) {
    this.redis = options.redis
    this.params = options.params
    const prefix = options.keyPrefix
    this.keys = [`${prefix}:gcra`, `${prefix}:gcra:line`, `${prefix}:gcra:seen`, `${prefix}:gcra:seq`]
  }

  /** False when the client cannot take a command right now (disconnected): callers fall back without waiting. */
  get available(): boolean {
    return this.redis.isReady
  }

  async reserve({ lane, ticket, maxWaitMs }: ReserveRequest): Promise<Reservation> {
    const p = this.params
    const tau = lane === 'interactive' ? p.interactiveTauMs : p.backgroundTauMs
    const [status = 0, ms = 0, rank = 0, level = 0] = await this.run([
      'reserve',
      p.intervalMs,
      KEY_TTL_MS,
      lane,
      tau,
      Math.floor(Math.max(0, maxWaitMs)),
      ticket,
      p.horizonMs,
      p.staleMs,
    ])
    if (status === 1) return { kind: 'booked', waitMs: ms, levelMs: level }
    if (status === 0) return { kind: 'rejected', retryAfterMs: ms }
    return { kind: 'queued', pollInMs: pollDelay(rank, ms, p.intervalMs) }
  }

  async leave(ticket: string): Promise<void> {
    await this.run(['leave', this.params.intervalMs, KEY_TTL_MS, ticket])
  }

  async penalize(): Promise<void> {
    await this.run(['penalty', this.params.intervalMs, KEY_TTL_MS, this.params.capacity])
  }

  async reconcile(used: number): Promise<void> {
    await this.run(['reconcile', this.params.intervalMs, KEY_TTL_MS, used])
  }

  /** Current level in calls (tests, readiness detail): (TAT - now) / T, booked future sends included. */
  async level(): Promise<number> {
    const [, ms = 0] = await this.run(['reconcile', this.params.intervalMs, KEY_TTL_MS, 0])
    return ms / this.params.intervalMs
  }

  private async run(args: (string | number)[]): Promise<number[]> {
    const options = { keys: this.keys, arguments: args.map(String) }
    let reply: unknown
    try {
      reply = await this.redis.evalSha(SCRIPT_SHA, options)
    } catch (error) {
      if (!String((error as Error).message).includes('NOSCRIPT')) throw error
      reply = await this.redis.eval(GCRA_SCRIPT, options)
    }
    return (reply as unknown[]).map(Number)
  }
}
