import { noopLog, noopMetrics, type RechargeLog, type RechargeMetrics } from '../observability.ts'
import type { GcraParams, GcraStore, LocalGcra, Reservation, ReserveRequest } from './gcra.ts'
import type { RedisGcra } from './redis-gcra.ts'

/**
 * The shared book while Redis answers; an in-process book at a conservative share of the budget while it does not
 * ("insurance" mode). Every Redis command is bounded by the app's client (no offline queue, reply deadline), so a dead
 * Redis costs at most one timeout before the fallback is used, and then nothing for `retryAfterMs`. Entering and
 * leaving degraded mode is logged once each and exported as a gauge. Upstream 429s (penalty) still protect the token
 * in degraded mode.
 */
export class FailoverGcra implements GcraStore {
  private readonly shared: RedisGcra
  private readonly local: LocalGcra
  private readonly log: RechargeLog
  private readonly metrics: RechargeMetrics
  private readonly retryAfterMs: number
  private downUntil = 0
  private degradedNow = false

  constructor(options: {
    shared: RedisGcra
    local: LocalGcra
    log?: RechargeLog
    metrics?: RechargeMetrics
    retryAfterMs?: number
  }) {
    this.shared = options.shared
    this.local = options.local
    this.log = options.log ?? noopLog
    this.metrics = options.metrics ?? noopMetrics
    this.retryAfterMs = options.retryAfterMs ?? 1_000
    this.metrics.degraded(false)
  }

  get params(): GcraParams {
    return this.shared.params
  }

  get degraded(): boolean {
    return this.degradedNow
  }

  reserve(request: ReserveRequest): Promise<Reservation> {
    return this.either((store) =>
      store.reserve(request).then((reservation) => {
        if (reservation.kind === 'booked') {
          this.lastLevel[store === this.local ? 'local' : 'shared'] = { levelMs: reservation.levelMs, at: Date.now() }
        }
        return reservation
      }),
    )
  }

  /**
   * The bucket's level as the book in use last saw it (its booked sends included). When the book changes, the other
   * one starts from it: the sends the shared book booked ahead still go out after its Redis died, and what this
   * replica spent on its in-process share is not in the shared book (nor, after a failover, what the old primary
   * acknowledged but had not yet replicated). Starting empty instead sent Recharge a burst of 429s at each switch.
   */
  private readonly lastLevel = { shared: { levelMs: 0, at: 0 }, local: { levelMs: 0, at: 0 } }

  private levelNowMs(book: 'shared' | 'local'): number {
    const { levelMs, at } = this.lastLevel[book]
    return Math.max(0, levelMs - (Date.now() - at))
  }

  leave(ticket: string): Promise<void> {
    // A ticket lives in whichever book it was queued in; leaving both is harmless.
    void this.local.leave(ticket)
    return this.either((store) => store.leave(ticket))
  }

  penalize(): Promise<void> {
    void this.local.penalize()
    return this.either((store) => store.penalize())
  }

  reconcile(used: number): Promise<void> {
    void this.local.reconcile(used)
    return this.either((store) => store.reconcile(used))
  }

  /** Runs on every reservation: one promise handler, not an async function's turns around an await. */
  private either<T>(operation: (store: GcraStore) => Promise<T>): Promise<T> {
    if (Date.now() >= this.downUntil && this.shared.available) {
      let shared: Promise<T>
      try {
        shared = operation(this.shared)
      } catch (error) {
        shared = Promise.reject(error)
      }
      return shared.then(
        (result) => {
          if (this.degradedNow) this.leaveDegraded()
          return result
        },
        (error: unknown) => {
          this.enterDegraded(error)
          return operation(this.local)
        },
      )
    }
    if (!this.degradedNow) this.enterDegraded(new Error('Redis not connected'))
    return operation(this.local)
  }

  private leaveDegraded(): void {
    // Other replicas may go on spending their in-process shares until they next try Redis (retryAfterMs): their
    // part of the budget over that time is booked too.
    const replicas = Math.max(1, this.local.params.intervalMs / this.shared.params.intervalMs)
    const levelMs = this.levelNowMs('local') + this.retryAfterMs * (1 - 1 / replicas)
    if (levelMs > 0) this.shared.reconcile(levelMs / this.shared.params.intervalMs).catch(() => {})
    this.degradedNow = false
    this.metrics.degraded(false)
    this.log.info('Recharge limiter: Redis is back; sharing the budget with other replicas again')
  }

  private enterDegraded(error: unknown): void {
    this.downUntil = Date.now() + this.retryAfterMs
    if (this.degradedNow) return
    const levelMs = this.levelNowMs('shared')
    if (levelMs > 0) void this.local.reconcile(levelMs / this.local.params.intervalMs)
    this.degradedNow = true
    this.metrics.degraded(true)
    this.log.warn(
      { err: { message: (error as Error).message } },
      'Recharge limiter degraded: Redis unavailable, using an in-process share of the budget',
    )
  }
}
