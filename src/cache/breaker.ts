export type BreakerState = 'closed' | 'open' | 'half-open'

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. */
  failureThreshold: number
  /** How long an open breaker skips Redis before letting one probe through. */
  coolDownMs: number
  now?: () => number
  onChange?: (state: BreakerState) => void
}

/**
 * A small circuit breaker around Redis: after `failureThreshold` consecutive failures every caller skips Redis for
 * `coolDownMs` (paying nothing, not even the command timeout), then one probe decides between closed and open again.
 */
export class CircuitBreaker {
  private current: BreakerState = 'closed'
  private failures = 0
  private openUntil = 0
  private probing = false
  private readonly options: BreakerOptions
  private readonly now: () => number

  constructor(options: BreakerOptions) {
    this.options = options
    this.now = options.now ?? Date.now
  }

  get state(): BreakerState {
    return this.current
  }

  /** True when a call may go to Redis now. In half-open, only one probe at a time. */
  allow(): boolean {
    if (this.current === 'closed') return true
    if (this.current === 'open') {
      if (this.now() < this.openUntil) return false
      this.move('half-open')
    }
    if (this.probing) return false
    this.probing = true
    return true
  }

  success(): void {
    this.failures = 0
    this.probing = false
    if (this.current !== 'closed') this.move('closed')
  }

  failure(): void {
    this.probing = false
    this.failures += 1
    if (this.current === 'half-open' || this.failures >= this.options.failureThreshold) {
      this.openUntil = this.now() + this.options.coolDownMs
      if (this.current !== 'open') this.move('open')
    }
  }

  private move(state: BreakerState): void {
    this.current = state
    this.options.onChange?.(state)
  }
}
