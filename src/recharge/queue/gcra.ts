import type { Lane } from '../types.ts'

/**
 * Where a call books: its lane, or `optional` for a read an answer can do without (budget/spender.ts). Optional
 * calls book directly, as interactive ones do, so they never wait behind the background line; but they reach at
 * most halfway into the interactive reserve (`optionalMaxWait`).
 */
export type BookingLane = Lane | 'optional'

/**
 * GCRA ("generic cell rate algorithm") as a reservation book for Recharge's leaky bucket.
 *
 * TAT (theoretical arrival time) is when the bucket, counting every call sent or booked so far, would be empty.
 * The bucket level at `now` is (TAT - now) / T, with T = 1000 / rate ms. A call may be sent once the level is at most
 * `tau / T`, i.e. at `allowAt = max(now, TAT - tau)`; booking it moves TAT by T. Booking a future send time (instead
 * of refusing and letting callers poll) keeps arrival order across replicas: the fairness the prototype lacked.
 *
 * Lanes:
 * - interactive books directly, with tau = (capacity - safety) * T: it may use the whole bucket.
 * - optional (a read an answer can do without) books directly like interactive, with the background tau, and only a
 *   slot within half the reserve's drain time (`optionalMaxWait`): it jumps the background line (a shopper is
 *   waiting for the answer it belongs to) but leaves half of the interactive reserve free. When the bucket is fuller
 *   than that it is refused at once, and the answer goes without it.
 * - background keeps a reserve free for interactive bursts: tau = (capacity - reserve - safety) * T, and it books
 *   only up to `horizonMs` ahead. Farther slots are not booked (that would queue interactive calls behind 60 s of
 *   background work): background callers wait in a FIFO line instead, and only the head may book. Waiters refresh a
 *   liveness stamp when they poll, so a crashed replica's tickets expire after `staleMs`.
 *
 * The same arithmetic runs in Redis (redis-gcra.ts, one Lua script, `TIME` as the clock) and in process
 * (LocalGcra below, for no Redis and as the degraded fallback).
 */

export interface GcraParams {
  /** Emission interval: ms per call at the leak rate. */
  intervalMs: number
  /** Bucket size in calls. */
  capacity: number
  /** Calls kept free below the top of the bucket. */
  safety: number
  /** How far ahead an interactive call may be booked (ms of bucket level). */
  interactiveTauMs: number
  /** Same for background calls: keeps `reserve` calls of the bucket for interactive bursts. */
  backgroundTauMs: number
  /** Background calls book at most this far ahead; later slots wait in the line. */
  horizonMs: number
  /** A background waiter that has not polled for this long is dropped from the line (its process died). */
  staleMs: number
}

export interface GcraOptions {
  capacity: number
  ratePerSecond: number
  /** Calls kept free below the bucket's top for network jitter and whole-unit draining (default rate*100ms + 1, ≥ 2). */
  safety?: number
  /** Share of the bucket background work may not use (default 0.25). */
  backgroundReserve?: number
}

export function gcraParams(options: GcraOptions): GcraParams {
  const intervalMs = 1000 / options.ratePerSecond
  const safety = options.safety ?? Math.max(2, Math.ceil(options.ratePerSecond * 0.1) + 1)
  const usable = Math.max(1, options.capacity - safety)
  const reserve = Math.ceil(options.capacity * (options.backgroundReserve ?? 0.25))
  return {
    intervalMs,
    capacity: options.capacity,
    safety,
    interactiveTauMs: usable * intervalMs,
    backgroundTauMs: Math.max(0, usable - reserve) * intervalMs,
    horizonMs: Math.max(250, 2 * intervalMs),
    staleMs: 3_000,
  }
}

/**
 * How late a send may be after its slot before it must book again. Sends are never early, but a send released late
 * (an event-loop stall, CPU starvation) lands together with the sends booked after it; the safety margin absorbs
 * about `safety - 1` calls of such bunching. Later than that, the slot lapses and the call books a fresh one.
 */
export function lateTolerance(params: GcraParams): number {
  return Math.max(params.intervalMs / 2, (params.safety - 1) * params.intervalMs)
}

export type Reservation =
  /**
   * The slot is booked: send after `waitMs`. `levelMs` is the book's level right after booking (TAT - now): what the
   * queue compares with the level Recharge reports, so it only writes a reconciliation when upstream is fuller.
   */
  | { kind: 'booked'; waitMs: number; levelMs: number }
  /** No slot within the caller's deadline; nothing was booked. A retry has a chance after `retryAfterMs`. */
  | { kind: 'rejected'; retryAfterMs: number }
  /** Background line: the ticket keeps its place; poll again after `pollInMs` (also refreshes its liveness). */
  | { kind: 'queued'; pollInMs: number }

export interface ReserveRequest {
  lane: BookingLane
  /** Identifies a background waiter across polls (its place in the line). */
  ticket: string
  /** The longest wait the caller accepts (its remaining deadline). */
  maxWaitMs: number
}

/** What the queue needs from a reservation book, Redis-backed or in-process. */
export interface GcraStore {
  readonly params: GcraParams
  reserve(request: ReserveRequest): Promise<Reservation>
  /** A background waiter gives up its place (deadline, abort). */
  leave(ticket: string): Promise<void>
  /** Upstream said 429: someone else used the token. Make the bucket read full. */
  penalize(): Promise<void>
  /** Upstream said `used` calls are in the bucket; if that is fuller than we think, push TAT forward. */
  reconcile(used: number): Promise<void>
}

/**
 * The longest an optional call may wait for its slot, booked under the background tau: the time half the
 * interactive reserve takes to drain. Its booking so fills the bucket at most halfway into the reserve (33 of 40
 * calls at Recharge's defaults, where the background line's head reaches 31 and interactive calls 38): above the
 * background line, whose head it can pass at any moment, and below the half of the reserve kept for answers.
 */
export function optionalMaxWait(params: GcraParams, maxWaitMs: number): number {
  const reserveCalls = Math.round((params.interactiveTauMs - params.backgroundTauMs) / params.intervalMs)
  return Math.min(maxWaitMs, Math.floor(reserveCalls / 2) * params.intervalMs)
}

/** Longest poll interval of a background waiter (keeps its liveness stamp fresh). */
export const MAX_POLL_MS = 1_000

/** In-process GCRA with the same semantics as the Lua script: one replica, or the degraded fallback. */
export class LocalGcra implements GcraStore {
  readonly params: GcraParams
  private tat = 0
  private readonly line: string[] = []
  private readonly seen = new Map<string, number>()
  private readonly now: () => number

  constructor(params: GcraParams, now: () => number = () => performance.timeOrigin + performance.now()) {
    this.params = params
    this.now = now
  }

  async reserve(request: ReserveRequest): Promise<Reservation> {
    return this.reserveSync(request)
  }

  reserveSync({ lane, ticket, maxWaitMs }: ReserveRequest): Reservation {
    const now = this.now()
    const p = this.params
    const tat = Math.max(this.tat, now)
    if (lane !== 'background') {
      const optional = lane === 'optional'
      const wait = Math.max(0, tat - (optional ? p.backgroundTauMs : p.interactiveTauMs) - now)
      if (wait > (optional ? optionalMaxWait(p, maxWaitMs) : maxWaitMs)) return { kind: 'rejected', retryAfterMs: wait }
      this.tat = tat + p.intervalMs
      return { kind: 'booked', waitMs: wait, levelMs: this.tat - now }
    }
    this.seen.set(ticket, now)
    if (!this.line.includes(ticket)) this.line.push(ticket)
    // Drop waiters that stopped polling (their caller is gone) from the head.
    while (this.line.length > 0 && this.line[0] !== ticket) {
      const head = this.line[0] as string
      if (now - (this.seen.get(head) ?? 0) <= p.staleMs) break
      this.line.shift()
      this.seen.delete(head)
    }
    const rank = this.line.indexOf(ticket)
    const wait = Math.max(0, tat - p.backgroundTauMs - now)
    if (rank === 0 && wait <= p.horizonMs) {
      this.tat = tat + p.intervalMs
      this.removeTicket(ticket)
      return { kind: 'booked', waitMs: wait, levelMs: this.tat - now }
    }
    const estimate = Math.max(0, wait - p.horizonMs) + rank * p.intervalMs
    if (estimate > maxWaitMs) {
      this.removeTicket(ticket)
      return { kind: 'rejected', retryAfterMs: estimate }
    }
    return { kind: 'queued', pollInMs: pollDelay(rank, wait - p.horizonMs, p.intervalMs) }
  }

  async leave(ticket: string): Promise<void> {
    this.removeTicket(ticket)
  }

  async penalize(): Promise<void> {
    this.tat = Math.max(this.tat, this.now() + this.params.capacity * this.params.intervalMs)
  }

  async reconcile(used: number): Promise<void> {
    this.tat = Math.max(this.tat, this.now() + used * this.params.intervalMs)
  }

  private removeTicket(ticket: string): void {
    const index = this.line.indexOf(ticket)
    if (index >= 0) this.line.splice(index, 1)
    this.seen.delete(ticket)
  }
}

/** When a waiter should poll again: the head when its slot enters the horizon, others about when their turn comes. */
export function pollDelay(rank: number, headWaitMs: number, intervalMs: number): number {
  const estimate = rank === 0 ? headWaitMs : Math.max(0, headWaitMs) + rank * intervalMs
  return Math.min(MAX_POLL_MS, Math.max(5, Math.ceil(estimate)))
}
