import { randomUUID } from 'node:crypto'
import { type Clock, systemClock } from '../../infra/clock.ts'
import type { UpstreamBudget } from '../budget/budget.ts'
import { currentSpender } from '../budget/spender.ts'
import {
  PublicBudgetError,
  RechargeAbortedError,
  RechargeRateLimitedError,
  RechargeUnavailableError,
} from '../errors.ts'
import { noopLog, noopMetrics, type RechargeLog, type RechargeMetrics } from '../observability.ts'
import type { Lane } from '../types.ts'
import { type AddressLocks, LocalAddressLocks, type Release } from './address-lock.ts'
import type { BookingLane, GcraStore } from './gcra.ts'

/**
 * The rate-limit-aware queue every Recharge call goes through. For each call it:
 *   1. takes the address lock when the call is a write under an address (no 409 from our own concurrency);
 *   2. books a send time in the shared GCRA book (arrival order across replicas), or refuses at once when that time
 *      is past the call's deadline (→ 503 UPSTREAM_BUSY with Retry-After, decided in milliseconds);
 *   3. sleeps until the slot (an abort before the slot means nothing is sent);
 *   4. runs the job; on an upstream 429 marks the bucket full and books again with the same deadline (a 429 was not
 *      processed, so this is safe for writes too).
 */

export interface QueueCall {
  lane: Lane
  /** Epoch ms by which the call must be answered. */
  deadlineAt: number
  signal?: AbortSignal | undefined
  /** Writes under an address hold its lock for the whole call. */
  addressId?: string | undefined
  operation: string
}

export type JobOutcome<T> = { kind: 'done'; value: T } | { kind: 'rate-limited'; retryAfterMs?: number | undefined }

export interface QueueOptions {
  store: GcraStore
  locks?: AddressLocks
  metrics?: RechargeMetrics
  log?: RechargeLog
  /** A send released later than this after its slot books again (see gcra.ts `lateTolerance`). Default: never. */
  lateToleranceMs?: number
  /** The configured bucket size, compared with what Recharge reports. */
  capacity?: number
  /** Who may spend how much of the bucket (src/recharge/budget); without it every caller may use all of it. */
  budget?: UpstreamBudget | undefined
  /** Time and waiting (tests inject virtual time). Default: the system clock. */
  clock?: Clock
}

/** Re-bookings after a late wake-up, per admission, before the call is sent anyway. */
const MAX_LATE_REBOOKS = 2

/** Time kept between a slot and the deadline, so a call booked at its last moment can still be answered. */
function answerMargin(remainingMs: number): number {
  return Math.min(250, remainingMs / 4)
}

export class RechargeQueue {
  private readonly store: GcraStore
  private readonly locks: AddressLocks
  private readonly metrics: RechargeMetrics
  private readonly log: RechargeLog
  private readonly lateToleranceMs: number
  private readonly capacity: number | undefined
  private readonly budget: UpstreamBudget | undefined
  private readonly clock: Clock
  private sizeMismatchLogged = false
  /** The book's level after this replica's latest booking, and when it was asked (local clock). */
  private lastBooking = { levelMs: 0, at: 0 }
  /**
   * Calls admitted and not yet answered, counted rather than kept: a long-lived Set of every call's promise kept each
   * call, and all it referenced, alive through young-generation collections (1.3 MB promoted per scavenge under load,
   * 0.47 MB without the Set), leaving it to the full collections.
   */
  private inFlight = 0
  /** Resolved when `inFlight` next reaches 0 (drain). */
  private idleWaiters: (() => void)[] = []
  private closing = false

  constructor(options: QueueOptions) {
    this.store = options.store
    this.locks = options.locks ?? new LocalAddressLocks()
    this.metrics = options.metrics ?? noopMetrics
    this.log = options.log ?? noopLog
    this.lateToleranceMs = options.lateToleranceMs ?? Number.POSITIVE_INFINITY
    this.capacity = options.capacity
    this.budget = options.budget
    this.clock = options.clock ?? systemClock
  }

  /** Calls admitted and not yet answered (for readiness and shutdown). */
  get pending(): number {
    return this.inFlight
  }

  run<T>(call: QueueCall, job: () => Promise<JobOutcome<T>>): Promise<T> {
    if (this.closing) {
      return Promise.reject(
        new RechargeUnavailableError('The Recharge queue is shutting down', { operation: call.operation }),
      )
    }
    this.inFlight++
    return this.execute(call, job)
  }

  private settled(): void {
    if (--this.inFlight > 0 || this.idleWaiters.length === 0) return
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const wake of waiters) wake()
  }

  /**
   * Upstream reported its bucket level (`X-Recharge-Limit`): another consumer may be using the token. Returns the
   * write to the shared book when one is needed, else nothing: it runs on every answer, and an async function would
   * cost every call a promise and a turn of the microtask queue for the usual case of nothing to write.
   */
  observeLimit(used: number, size?: number): Promise<void> | undefined {
    this.metrics.bucketLevel(used)
    if (size !== undefined && this.capacity !== undefined && size !== this.capacity && !this.sizeMismatchLogged) {
      // A token with a larger bucket is served conservatively; a smaller one would meet 429s (penalties absorb them).
      this.sizeMismatchLogged = true
      this.log.warn(
        { queue: { reportedSize: size, configuredSize: this.capacity } },
        'Recharge reports a bucket size different from RECHARGE_BUCKET_SIZE; set it to the reported size',
      )
    }
    // Recharge's count includes our own calls, which the book already holds: writing it back on every answer would
    // cost a Redis round trip per call for nothing. Only a fuller upstream (another consumer of the token) is written.
    // The book's level can only be higher than what this replica last saw decay to, so a skipped write leaves the
    // book at most `safety - 1` calls low: the margin it keeps free below the top for exactly such jitter.
    const { intervalMs, safety } = this.store.params
    const knownLevelMs = Math.max(0, this.lastBooking.levelMs - (this.clock.now() - this.lastBooking.at))
    if (used * intervalMs <= knownLevelMs + Math.max(1, safety - 1) * intervalMs) return undefined
    return this.store.reconcile(used)
  }

  /** Refuse new calls and wait (bounded) for admitted ones to be answered. */
  async drain(timeoutMs = 10_000): Promise<void> {
    this.closing = true
    if (this.inFlight === 0) return
    const timer = new AbortController()
    await Promise.race([
      new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
      this.clock.sleep(timeoutMs, timer.signal).catch(() => {}),
    ])
    timer.abort()
  }

  private async execute<T>(call: QueueCall, job: () => Promise<JobOutcome<T>>): Promise<T> {
    let release: Release | undefined
    try {
      if (call.addressId !== undefined) release = await this.locks.acquire(call.addressId, call.deadlineAt, call.signal)
      const spender = currentSpender()
      if (spender?.kind === 'public' && call.lane === 'interactive') await this.chargePublic(call, spender.client)
      // An optional read books ahead of the background line, never into the interactive reserve (gcra.ts).
      const lane: BookingLane = spender?.kind === 'optional' && call.lane === 'interactive' ? 'optional' : call.lane
      for (let attempt = 1; ; attempt++) {
        await this.admit(call, lane)
        const outcome = await job()
        if (outcome.kind === 'done') return outcome.value
        // 429: the upstream bucket is fuller than our book says (another consumer of the token). Read it as full, then
        // book again at the head of what is left of our deadline.
        this.metrics.upstreamRateLimited()
        this.log.warn(
          { upstream: { operation: call.operation, status: 429, attempt } },
          'Recharge 429: bucket set full',
        )
        await this.store.penalize()
        const remaining = call.deadlineAt - this.clock.now()
        if (remaining <= 0) {
          throw new RechargeRateLimitedError('Recharge kept answering 429 until the deadline', {
            status: 429,
            operation: call.operation,
            reason: 'upstream',
            retryAfterSeconds: (outcome.retryAfterMs ?? 2_000) / 1000,
          })
        }
      }
    } finally {
      // Only a write under an address holds a lock: reads finish without another turn of the event loop.
      if (release) await release().finally(() => this.settled())
      else this.settled()
    }
  }

  /**
   * An interactive call made on behalf of an anonymous client (see budget/spender.ts) must first fit in that client's
   * allowance and in the public share of the bucket; refused, it fails before booking anything. Charged once per
   * call: a 429 re-booking is not a new call. Background work is the store's own and is not charged.
   */
  private async chargePublic(call: QueueCall, client: string | null): Promise<void> {
    if (!this.budget) return
    const decision = await this.budget.chargePublic(client)
    if (decision.ok) return
    this.metrics.admissionRejected(decision.by === 'client' ? 'public-client' : 'public-share')
    throw new PublicBudgetError(
      decision.by === 'client'
        ? 'This client has spent its share of the Recharge budget'
        : 'Anonymous traffic has spent its share of the Recharge budget',
      {
        operation: call.operation,
        reason: 'admission',
        retryAfterSeconds: decision.retryAfterMs / 1000,
        by: decision.by,
      },
    )
  }

  /** Book a slot and sleep until it; throws at once when the slot would be past the deadline. */
  private async admit(call: QueueCall, lane: BookingLane): Promise<void> {
    // Only background calls wait in a line, where the ticket is their place; the others book directly.
    const ticket = lane === 'background' ? randomUUID() : ''
    const started = this.clock.now()
    let lateRebooks = 0
    for (;;) {
      if (call.signal?.aborted) {
        if (lane === 'background') await this.store.leave(ticket)
        throw new RechargeAbortedError('Cancelled before its Recharge slot; nothing was sent', {
          operation: call.operation,
        })
      }
      const remaining = call.deadlineAt - this.clock.now()
      const maxWaitMs = Math.max(0, remaining - answerMargin(remaining))
      const askedAt = this.clock.now()
      const reservation = await this.store.reserve({ lane, ticket, maxWaitMs })
      if (reservation.kind === 'rejected') {
        this.metrics.admissionRejected(lane)
        throw new RechargeRateLimitedError('The Recharge budget cannot serve this call before its deadline', {
          operation: call.operation,
          reason: 'admission',
          retryAfterSeconds: reservation.retryAfterMs / 1000,
        })
      }
      const pause = reservation.kind === 'booked' ? reservation.waitMs : Math.min(reservation.pollInMs, maxWaitMs)
      try {
        if (pause > 0) await this.clock.sleep(pause, call.signal)
      } catch {
        if (reservation.kind === 'queued') await this.store.leave(ticket)
        // A booked slot just lapses: the bucket sees one call fewer than booked, which is the safe direction.
        throw new RechargeAbortedError('Cancelled before its Recharge slot; nothing was sent', {
          operation: call.operation,
        })
      }
      if (reservation.kind === 'booked') {
        this.lastBooking = { levelMs: reservation.levelMs, at: askedAt }
        // Released too late (the process stalled): sending now would bunch with later slots. Let it lapse, book again.
        const late = this.clock.now() - (askedAt + reservation.waitMs)
        if (late > this.lateToleranceMs && lateRebooks < MAX_LATE_REBOOKS) {
          lateRebooks++
          this.log.warn({ queue: { lane, lateMs: late } }, 'Recharge slot missed by a stall; booking again')
          continue
        }
        this.metrics.queueWait(lane, (this.clock.now() - started) / 1000)
        return
      }
    }
  }
}
