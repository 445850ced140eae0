import { AddressLocks } from './address-locks.ts'
import { LeakyBuckets } from './bucket.ts'
import { SimClock } from './clock.ts'
import { FaultGates, FaultRules } from './faults.ts'
import { Ledger } from './ledger.ts'
import type { ResolvedOptions } from './options.ts'
import { seedRetention } from './retention-seed.ts'
import { seedState } from './seed.ts'
import { seedGeneratedCustomers } from './seed-generated.ts'
import { SimState } from './state.ts'
import { WebhookDispatcher } from './webhooks/dispatcher.ts'
import { WebhookDropRules } from './webhooks/drops.ts'

/** Everything one simulator instance holds. `state` is replaced wholesale by `reset()`. */
export class Simulator {
  readonly options: ResolvedOptions
  readonly clock: SimClock
  readonly buckets: LeakyBuckets
  readonly ledger = new Ledger()
  readonly faults = new FaultRules()
  readonly gates = new FaultGates()
  /** Webhook loss (`POST /__sim/webhooks/faults`), kept apart from the request fault rules. */
  readonly webhookDrops: WebhookDropRules
  readonly locks: AddressLocks
  readonly webhooks: WebhookDispatcher
  /** Checkout tokens whose charge is being processed right now (a second charge gets 409). */
  readonly chargingCheckouts = new Set<string>()
  state: SimState

  constructor(options: ResolvedOptions) {
    this.options = options
    this.clock = new SimClock(options.frozenClock)
    this.buckets = new LeakyBuckets(options.bucketSize, options.leakRate)
    this.locks = new AddressLocks(options.addressWriteWindowMs)
    this.state = this.#freshState()
    this.webhookDrops = new WebhookDropRules(options.seed)
    this.webhooks = new WebhookDispatcher(this.state, {
      drops: this.webhookDrops,
      clientSecret: options.clientSecret,
      autoDeliver: options.webhookAutoDeliver,
      retryBaseMs: options.webhookRetryBaseMs,
      maxFailures: options.webhookMaxFailures,
      timeoutMs: options.webhookTimeoutMs,
      now: () => this.clock.now(),
    })
    this.webhooks.attach(this.state)
  }

  /**
   * Resets the clock, reseeds, empties the ledger, refills every bucket, clears faults (webhook drops too) and
   * pending webhook deliveries.
   */
  reset(): void {
    this.clock.reset()
    this.state = this.#freshState()
    this.webhooks.attach(this.state)
    this.ledger.clear()
    this.buckets.reset()
    this.faults.clear()
    this.webhookDrops.clear()
    this.gates.clear()
    this.locks.clear()
    this.chargingCheckouts.clear()
  }

  #freshState(): SimState {
    const state = new SimState(this.options, () => this.clock.now())
    seedState(state)
    seedRetention(state)
    // Last, so the hand-written data set keeps its ids whatever the count.
    seedGeneratedCustomers(state, this.options.seedCustomers)
    return state
  }
}
