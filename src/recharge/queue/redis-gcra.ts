import { createHash } from 'node:crypto'
import type { RedisClient } from '../../infra/redis.ts'
import {
  type GcraParams,
  type GcraStore,
  lateTolerance,
  optionalMaxWait,
  pollDelay,
  type Reservation,
  type ReserveRequest,
} from './gcra.ts'

/**
 * The shared reservation book: one Lua script per operation, atomic in Redis, with Redis `TIME` as the only clock
 * (replica clocks never matter). Keys share the `{<token fingerprint>}` hash tag so the script runs unchanged on
 * Redis Cluster. Semantics are those of LocalGcra (gcra.ts); the script returns [status, ms]:
 *   interactive: one [status, ms, level] triple per caller, in the order given (as that many callers arriving in that
 *   order): [1, wait, level] booked · [0, retryAfter, 0] rejected; `level` is TAT - now after the booking, in ms;
 *   then [spare, level]: how many spare slots it booked for the replica's next callers (see SparePolicy) and the level
 *   background: [1, wait, 0, level] booked · [0, retryAfter] rejected · [2, headWait-or-estimate, rank] queued
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
if op == 'interactive' then
  -- ARGV[4]: tau; [5]: spare slots wanted; [6]: level they may fill up to (ms);
  -- ARGV[7..]: each caller's longest acceptable wait, in arrival order.
  local tau = tonumber(ARGV[4])
  local spareWanted = tonumber(ARGV[5])
  local spareCeiling = tonumber(ARGV[6])
  local out = {}
  for i = 7, #ARGV do
    local wait = tat - tau - now
    if wait < 0 then wait = 0 end
    local n = #out
    if wait > tonumber(ARGV[i]) then
      out[n + 1] = 0
      out[n + 2] = math.ceil(wait)
      out[n + 3] = 0
    else
      tat = tat + interval
      out[n + 1] = 1
      out[n + 2] = math.ceil(wait)
      out[n + 3] = math.ceil(tat - now)
    end
  end
  -- Spare slots are sendable now (wait 0) and only fill the bucket up to the ceiling, far below its top.
  local spare = math.floor((spareCeiling - (tat - now)) / interval)
  if spare > spareWanted then spare = spareWanted end
  if spare < 0 then spare = 0 end
  tat = tat + spare * interval
  store(tat)
  out[#out + 1] = spare
  out[#out + 1] = math.ceil(tat - now)
  return out
end

-- background: ARGV[4] tau, [5] max wait, [6] ticket, [7] horizon, [8] stale after.
local tau = tonumber(ARGV[4])
local maxWait = tonumber(ARGV[5])
local ticket = ARGV[6]
local horizon = tonumber(ARGV[7])
local stale = tonumber(ARGV[8])
local wait = tat - tau - now
if wait < 0 then wait = 0 end
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
  /** Default: `sparePolicy(params)`. */
  spare?: SparePolicy
}

/** Interactive reservations sent in one script call at most (the rest wait for the next). */
const MAX_BATCH = 64

/**
 * Spare slots: a script call that books for waiting callers may also book a few slots for the callers this replica
 * will have next, which then book without a Redis round trip. A spare slot is booked as sent at once, so it is only
 * taken while the bucket is at most half full, it is only handed out within `validMs` of its booking (after that it
 * lapses: the book counted a call that never went, the safe direction), and one call books at most `maxSlots`.
 */
export interface SparePolicy {
  /** Spare slots one script call may book (0 turns them off). */
  maxSlots: number
  /** How long after its booking a spare slot may still be used. */
  validMs: number
}

/** Longest a spare slot stays usable, whatever the rate. */
const MAX_SPARE_VALID_MS = 100
/** Spare slots one script call books at most, whatever the rate (the demand rule below keeps it near use). */
const MAX_SPARE_SLOTS = 1024

/**
 * A spare slot used `validMs` after its booking reaches Recharge that much later than the book assumed: the bucket
 * holds up to `validMs / T` of a call more than the book says, per spare slot. Bounding the slots of one call by
 * `validMs / T` keeps that within the `safety - 1` calls of send-time bunching the margin absorbs (gcra.ts
 * `lateTolerance`). At Recharge's 2 calls/s that is no spare slot at all; they only matter where the budget is high
 * enough for the Redis round trip per call to show.
 */
export function sparePolicy(params: GcraParams): SparePolicy {
  const validMs = Math.min(MAX_SPARE_VALID_MS, lateTolerance(params))
  return { maxSlots: Math.min(MAX_SPARE_SLOTS, Math.floor(validMs / params.intervalMs)), validMs }
}

interface PendingReservation {
  maxWaitMs: number
  resolve: (reservation: Reservation) => void
  reject: (error: unknown) => void
}

/** Spare slots of the latest script call not handed out yet. */
interface SpareSlots {
  left: number
  /** The book's level after the call (ms) and when the call was sent (local clock). */
  levelMs: number
  bookedAt: number
}

export class RedisGcra implements GcraStore {
  readonly params: GcraParams
  private readonly redis: RedisClient
  private readonly keys: string[]
  /**
   * Interactive reservations asked for while one script call is out: they go together in the next one. Under load
   * this turns one Redis round trip per upstream call into one per batch (Redis time, and the bridge's work to send
   * and read each command); an idle replica sends at once, as before.
   */
  private readonly waiting: PendingReservation[] = []
  private sending = false
  private readonly spare: SparePolicy
  private spareSlots: SpareSlots = { left: 0, levelMs: 0, bookedAt: 0 }
  /** Interactive reservations asked for since the latest script call was sent, and when it was sent. */
  private asked = 0
  private lastSentAt = 0

  constructor(options: RedisGcraOptions) {
    this.redis = options.redis
    this.params = options.params
    this.spare = options.spare ?? sparePolicy(options.params)
    const prefix = options.keyPrefix
    this.keys = [`${prefix}:gcra`, `${prefix}:gcra:line`, `${prefix}:gcra:seen`, `${prefix}:gcra:seq`]
  }

  /** False when the client cannot take a command right now (disconnected): callers fall back without waiting. */
  get available(): boolean {
    return this.redis.isReady
  }

  reserve(request: ReserveRequest): Promise<Reservation> {
    if (request.lane === 'background') return this.reserveBackground(request)
    if (request.lane === 'optional') return this.reserveOptional(request)
    this.asked++
    const spare = this.takeSpareSlot()
    if (spare) return Promise.resolve(spare)
    return new Promise((resolve, reject) => {
      this.waiting.push({ maxWaitMs: request.maxWaitMs, resolve, reject })
      if (!this.sending) this.sendWaiting()
    })
  }

  /** A spare slot still valid, booked as sendable now; undefined when none is left. */
  private takeSpareSlot(): Reservation | undefined {
    const slots = this.spareSlots
    if (slots.left === 0) return undefined
    const age = Date.now() - slots.bookedAt
    if (age >= this.spare.validMs) {
      slots.left = 0
      return undefined
    }
    slots.left--
    return { kind: 'booked', waitMs: 0, levelMs: Math.max(0, slots.levelMs - age) }
  }

  /**
   * An optional read books directly, as one interactive caller would, but under the background tau, within
   * `optionalMaxWait`, and with no spare slots. Not batched with interactive callers: their batch shares one ceiling, and optional reads are few
   * (one per list answer), so the extra round trip is cheap.
   */
  private async reserveOptional({ maxWaitMs }: ReserveRequest): Promise<Reservation> {
    const p = this.params
    const [status = 0, ms = 0, level = 0] = await this.run([
      'interactive',
      p.intervalMs,
      KEY_TTL_MS,
      p.backgroundTauMs,
      0,
      0,
      Math.floor(Math.max(0, optionalMaxWait(p, maxWaitMs))),
    ])
    return status === 1 ? { kind: 'booked', waitMs: ms, levelMs: level } : { kind: 'rejected', retryAfterMs: ms }
  }

  private async reserveBackground({ ticket, maxWaitMs }: ReserveRequest): Promise<Reservation> {
    const p = this.params
    const [status = 0, ms = 0, rank = 0, level = 0] = await this.run([
      'background',
      p.intervalMs,
      KEY_TTL_MS,
      p.backgroundTauMs,
      Math.floor(Math.max(0, maxWaitMs)),
      ticket,
      p.horizonMs,
      p.staleMs,
    ])
    if (status === 1) return { kind: 'booked', waitMs: ms, levelMs: level }
    if (status === 0) return { kind: 'rejected', retryAfterMs: ms }
    return { kind: 'queued', pollInMs: pollDelay(rank, ms, p.intervalMs) }
  }

  /**
   * One script call for the interactive reservations waiting now; when it answers, the next batch goes. It also books
   * spare slots for the callers expected in the next half of `validMs`, at the rate this replica was asked for slots
   * since its previous call: an idle replica books none, a busy one about what it will use before they lapse.
   */
  private sendWaiting(): void {
    while (this.waiting.length > 0) {
      const spare = this.takeSpareSlot()
      if (!spare) break
      this.waiting.shift()?.resolve(spare)
    }
    const batch = this.waiting.splice(0, MAX_BATCH)
    if (batch.length === 0) {
      this.sending = false
      return
    }
    this.sending = true
    const p = this.params
    const sentAt = Date.now()
    const askedPerMs = this.asked / Math.max(1, sentAt - this.lastSentAt)
    const spareWanted = Math.min(this.spare.maxSlots, Math.floor((askedPerMs * this.spare.validMs) / 2))
    this.asked = 0
    this.lastSentAt = sentAt
    const maxWaits = batch.map((entry) => Math.floor(Math.max(0, entry.maxWaitMs)))
    // Spare slots may fill the bucket up to half of what interactive calls may use.
    const spareCeiling = p.interactiveTauMs / 2
    this.run(['interactive', p.intervalMs, KEY_TTL_MS, p.interactiveTauMs, spareWanted, spareCeiling, ...maxWaits])
      .then(
        (reply) => {
          batch.forEach((entry, i) => {
            const [status = 0, ms = 0, level = 0] = reply.slice(i * 3, i * 3 + 3)
            entry.resolve(
              status === 1 ? { kind: 'booked', waitMs: ms, levelMs: level } : { kind: 'rejected', retryAfterMs: ms },
            )
          })
          const [spare = 0, levelMs = 0] = reply.slice(batch.length * 3)
          if (spare > 0) this.spareSlots = { left: spare, levelMs, bookedAt: sentAt }
        },
        (error: unknown) => {
          for (const entry of batch) entry.reject(error)
        },
      )
      .finally(() => this.sendWaiting())
  }

  async leave(ticket: string): Promise<void> {
    await this.run(['leave', this.params.intervalMs, KEY_TTL_MS, ticket])
  }

  async penalize(): Promise<void> {
    // Someone else filled the bucket: spare slots booked before that would only meet 429s.
    this.spareSlots.left = 0
    await this.run(['penalty', this.params.intervalMs, KEY_TTL_MS, this.params.capacity])
  }

  async reconcile(used: number): Promise<void> {
    this.spareSlots.left = 0
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
