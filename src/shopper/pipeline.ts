import type { Shopper } from '../identity/shopper.ts'
import { isOutcomeUnknown } from '../recharge/errors.ts'
import type { Policy, ShopperAction } from './policy.ts'
import { requireAllowed } from './policy-checks.ts'
import type { ShopperRecords } from './records.ts'
import type { ShopperUpstream } from './upstream.ts'
import type { ShopperWriteLimit } from './write-limit.ts'

/** How long the read confirming a write whose answer was lost may take. */
const CONFIRMING_READ_DEADLINE_MS = 2_000

export interface ActionContext {
  shopper: Shopper
  requestId: string
  signal?: AbortSignal
  /** Called right before the first upstream write; a throw stops the write (the Idempotency-Key guard). */
  beforeWrite?: () => Promise<void>
}

export interface WritePipelineOptions {
  records: ShopperRecords
  upstream: () => ShopperUpstream
  policy: Policy
  writeLimit?: ShopperWriteLimit | undefined
}

/**
 * The steps every shopper write goes through, shared by the per-resource action files (subscriptions.ts,
 * addresses.ts, and whichever resource comes next):
 *
 *   policy → budget → ownership → write → confirm → invalidate
 *
 * `admit` runs the first two (403 ACTION_NOT_ALLOWED before anything is looked up; the write counted before the
 * ownership check, so probing foreign ids costs budget too). Ownership is the resource's own lookup through the
 * shopper's cached lists (`records.own*`: 404, no upstream call for a foreign id), followed by its state and input
 * checks (422). `write` runs the rest: the Idempotency-Key guard, the upstream writes (with the record's address id:
 * Recharge serialises writes per address), the confirming read when the answer was lost, and the invalidation.
 */
export class WritePipeline {
  readonly policy: Policy
  readonly records: ShopperRecords
  readonly upstream: () => ShopperUpstream
  private readonly writeLimit: ShopperWriteLimit | null

  constructor(options: WritePipelineOptions) {
    this.policy = options.policy
    this.records = options.records
    this.upstream = options.upstream
    this.writeLimit = options.writeLimit ?? null
  }

  /** Policy, then budget: every requested action must be allowed before the write is counted. */
  async admit(context: ActionContext, actions: readonly ShopperAction[]): Promise<void> {
    for (const action of actions) requireAllowed(this.policy, action)
    await this.writeLimit?.take(context.shopper.customerId)
  }

  /**
   * Run an action's upstream writes, then drop the shopper's cached records on every replica — also when the writes
   * failed: one may have been applied before a later one failed, or its outcome may be unknown (an answer lost after
   * Recharge processed it). A needless invalidation costs one re-read; a missed one shows the shopper stale state.
   *
   * When the outcome is unknown, `confirm` reads the record back: if it shows the change, the action is answered as
   * done with what was read, instead of leaving the shopper to find out. If it does not (or the read fails), the
   * outcome stays unknown: Recharge may still apply a write it received (src/shopper/write-confirmation.ts).
   */
  async write<T>(
    context: ActionContext,
    tags: readonly string[],
    writes: () => Promise<T>,
    confirm?: () => Promise<T | undefined>,
  ): Promise<T> {
    await context.beforeWrite?.()
    try {
      return await writes()
    } catch (error) {
      if (confirm === undefined || !isOutcomeUnknown(error)) throw error
      const confirmed = await confirm().catch(() => undefined)
      if (confirmed === undefined) throw error
      return confirmed
    } finally {
      await this.records.changed(context.shopper.customerId, tags)
    }
  }

  /** Options of an upstream write: its address id lets the queue serialise writes per address, as Recharge does. */
  writeOptions(context: ActionContext, addressId: string | null) {
    return {
      requestId: context.requestId,
      ...(addressId ? { addressId } : {}),
      ...(context.signal ? { signal: context.signal } : {}),
    }
  }

  readOptions(context: ActionContext) {
    return { requestId: context.requestId, ...(context.signal ? { signal: context.signal } : {}) }
  }

  /** Its own deadline: the lost answer may have used up the request's (a timeout is the usual cause). */
  confirmingReadOptions(context: ActionContext) {
    return { ...this.readOptions(context), deadlineMs: CONFIRMING_READ_DEADLINE_MS }
  }
}
