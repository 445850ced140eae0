import { randomUUID } from 'node:crypto'
import { withRetries } from '../infra/saga.ts'
import type { CallOptions, RechargeTransport, UpstreamRequest } from '../recharge/types.ts'
import type { ImportMetrics } from './metrics.ts'
import { normaliseEmail } from './normalise.ts'
import type { RecordOutcome } from './outcome.ts'
import { importRecord, type RecordSagaDeps } from './record-saga.ts'
import type { ImportRunStore, RunCounts, RunMeta } from './run-store.ts'
import { importUpstream } from './upstream.ts'

/**
 * Import runs: records saved first (Redis), then worked through by the replica holding the run's lease, in the
 * shared queue's background lane (a live shopper's call is never behind an import). A replica that dies stops
 * renewing its lease; another replica's watcher takes the run over and redoes the records that have no outcome yet,
 * which the record saga makes safe (it finds in Recharge what a dead attempt created). Pausing stops taking new
 * records; resuming hands the run to whichever replica takes the lease.
 */

export interface ImportRunsOptions {
  store: ImportRunStore
  transport: RechargeTransport
  saga: Omit<RecordSagaDeps, 'upstream'>
  metrics?: ImportMetrics | undefined
  log: {
    info(object: Record<string, unknown>, message: string): void
    warn(object: Record<string, unknown>, message: string): void
  }
  /** Lease time; a dead replica's run is taken over after it. Default 15 s. */
  leaseMs?: number
  /** Records in flight per run. Default 4 (enough to keep the background lane busy at Recharge's 2 calls/s). */
  concurrency?: number
  /** Attempts per record when a step fails for a reason that may pass (Recharge busy or down). Default 3. */
  attempts?: number
  /** Take over runs whose replica died (false in the CLI, which runs its own records). Default true. */
  watch?: boolean
}

export interface RunStatus extends RunMeta, RunCounts {
  failures: RecordOutcome[]
}

const FAILURES_SHOWN = 100
const RECORD_BATCH = 200
/** Passes over a run's records by one lease holder before it leaves the rest to the watcher. */
const PASSES = 3

export class ImportRuns {
  readonly owner = randomUUID()
  private readonly options: ImportRunsOptions
  private readonly leaseMs: number
  private readonly active = new Map<
    string,
    { controller: AbortController; done: Promise<void>; pause: { requested: boolean } }
  >()
  private readonly customerQueue = new Map<string, Promise<void>>()
  private watcher: NodeJS.Timeout | null = null
  private closed = false

  constructor(options: ImportRunsOptions) {
    this.options = options
    this.leaseMs = options.leaseMs ?? 15_000
  }

  /** Start the takeover watcher (runs whose lease lapsed: their replica died, or they were resumed). */
  start(): void {
    if (this.options.watch === false || this.watcher) return
    const tick = () => {
      this.adoptOrphans().catch((error: unknown) =>
        this.options.log.warn({ err: { message: (error as Error).message } }, 'import: takeover scan failed'),
      )
    }
    this.watcher = setInterval(tick, Math.max(250, Math.floor(this.leaseMs / 3)))
    this.watcher.unref()
    setImmediate(tick)
  }

  /** One record now, answered when done (the checkout hook): retried while its failure may pass. */
  async importOne(record: unknown, options: { dryRun?: boolean; signal?: AbortSignal } = {}): Promise<RecordOutcome> {
    const outcome = options.dryRun
      ? await this.attemptRecord(0, record, options)
      : await this.oneAtATime(customerKey(record), () => this.attemptRecord(0, record, options))
    this.options.metrics?.observe(outcome, options.dryRun ?? false)
    return outcome
  }

  /**
   * Records of one customer go one after another in this process, hooks and runs alike: two at once would each find
   * no payment method and each create one.
   */
  private oneAtATime<T>(customer: string, work: () => Promise<T>): Promise<T> {
    const previous = this.customerQueue.get(customer) ?? Promise.resolve()
    const next = previous.then(work, work)
    const settled = next.then(
      () => {},
      () => {},
    )
    this.customerQueue.set(customer, settled)
    void settled.then(() => {
      if (this.customerQueue.get(customer) === settled) this.customerQueue.delete(customer)
    })
    return next
  }

  /** Save the records as a new run and start it on this replica. */
  async create(records: readonly unknown[], source: 'api' | 'cli'): Promise<RunStatus> {
    const meta: RunMeta = {
      id: randomUUID(),
      state: 'running',
      total: records.length,
      source,
      created_at: new Date().toISOString(),
      finished_at: null,
    }
    await withRetries(() =>
      this.options.store.create(
        meta,
        records.map((record) => JSON.stringify(record)),
      ),
    )
    await this.claim(meta.id)
    return (await this.status(meta.id)) as RunStatus
  }

  async status(id: string): Promise<RunStatus | null> {
    const meta = await this.options.store.meta(id)
    if (!meta) return null
    const [counts, failures] = await Promise.all([
      this.options.store.counts(id),
      this.options.store.failures(id, FAILURES_SHOWN),
    ])
    return { ...meta, ...counts, failures }
  }

  /** Stop taking new records (those in flight finish). Null when there is no such run. */
  async pause(id: string): Promise<RunStatus | null> {
    const meta = await this.options.store.meta(id)
    if (!meta) return null
    if (meta.state === 'running') await this.options.store.setState(id, 'paused')
    // Here at once; another replica's run notices at its next lease renewal.
    const local = this.active.get(id)
    if (local) local.pause.requested = true
    return this.status(id)
  }

  async resume(id: string): Promise<RunStatus | null> {
    const meta = await this.options.store.meta(id)
    if (!meta) return null
    if (meta.state === 'paused') {
      // A pause still draining here ends first; then the run starts again from its first record without an outcome.
      await this.settled(id)
      await this.options.store.setState(id, 'running')
      await this.claim(id)
    }
    return this.status(id)
  }

  /** Resolves when the run this replica works on stops (done, paused, lease lost or closing). */
  async settled(id: string): Promise<void> {
    await this.active.get(id)?.done
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.watcher) clearInterval(this.watcher)
    for (const run of this.active.values()) run.controller.abort(new Error('closing'))
    await Promise.allSettled([...this.active.values()].map((run) => run.done))
  }

  private async adoptOrphans(): Promise<void> {
    if (this.closed) return
    for (const id of await this.options.store.unfinished()) {
      if (this.active.has(id)) continue
      const meta = await this.options.store.meta(id)
      if (meta?.state === 'running') await this.claim(id)
    }
  }

  /** Take the run's lease and work on it; false when another replica holds it. */
  private async claim(id: string): Promise<boolean> {
    if (this.closed || this.active.has(id)) return this.active.has(id)
    if (!(await this.options.store.acquireLease(id, this.owner, this.leaseMs))) return false
    const controller = new AbortController()
    const pause = { requested: false }
    const done = this.work(id, controller, pause)
      .catch((error: unknown) => {
        if (!controller.signal.aborted)
          this.options.log.warn({ run: id, err: { message: (error as Error).message } }, 'import: run stopped')
      })
      .finally(async () => {
        this.active.delete(id)
        this.options.metrics?.working(this.active.size)
        await this.options.store.releaseLease(id, this.owner).catch(() => {})
      })
    this.active.set(id, { controller, done, pause })
    this.options.metrics?.working(this.active.size)
    return true
  }

  private async work(id: string, controller: AbortController, pause: { requested: boolean }): Promise<void> {
    const { store, log } = this.options
    const meta = await store.meta(id)
    if (!meta) return
    const renewal = setInterval(
      () => {
        store
          .renewLease(id, this.owner, this.leaseMs)
          .then(async (held) => {
            if (!held) controller.abort(new Error('lease lost'))
            const current = await store.meta(id)
            if (current?.state !== 'running') pause.requested = true
          })
          .catch(() => {})
      },
      Math.max(100, Math.floor(this.leaseMs / 3)),
    )
    renewal.unref()
    try {
      const signal = controller.signal
      // A record whose outcome could not be saved (Redis failing) is done again in a later pass; after the last
      // pass the run stays running, and the watcher of any replica picks it up again.
      for (let pass = 1; pass <= PASSES; pass += 1) {
        const done = await withRetries(() => store.doneIndexes(id))
        if (done.size >= meta.total) {
          await withRetries(() => store.setState(id, 'done'))
          log.info({ run: id, total: meta.total }, 'import: run finished')
          return
        }
        log.info({ run: id, total: meta.total, done: done.size, pass }, 'import: working on the run')
        await this.pass(id, meta.total, done, signal, pause)
        if (pause.requested || signal.aborted) return
      }
    } finally {
      clearInterval(renewal)
    }
  }

  /** One pass over the records without an outcome, a few at a time. */
  private async pass(
    id: string,
    total: number,
    done: Set<number>,
    signal: AbortSignal,
    pause: { requested: boolean },
  ): Promise<void> {
    const { store } = this.options
    const inFlight = new Set<Promise<void>>()
    const concurrency = this.options.concurrency ?? 4
    for (let start = 0; start < total; start += RECORD_BATCH) {
      const texts = await withRetries(() => store.records(id, start, Math.min(total, start + RECORD_BATCH)))
      for (const [offset, text] of texts.entries()) {
        const index = start + offset
        if (done.has(index)) continue
        while (inFlight.size >= concurrency) await Promise.race(inFlight)
        if (pause.requested || signal.aborted) break
        const record = parseJson(text)
        const task: Promise<void> = this.oneAtATime(customerKey(record), async () => {
          if (signal.aborted) return
          const outcome = await this.attemptRecord(index, record, { signal })
          if (signal.aborted) return
          await withRetries(() => store.saveOutcome(id, outcome))
          this.options.metrics?.observe(outcome, false)
        })
          .catch(() => {})
          .finally(() => inFlight.delete(task))
        inFlight.add(task)
      }
      if (pause.requested || signal.aborted) break
    }
    await Promise.allSettled(inFlight)
  }

  /** Whether this process holds the run's lease and works on it now. */
  isWorking(id: string): boolean {
    return this.active.has(id)
  }

  private async attemptRecord(
    index: number,
    record: unknown,
    options: { dryRun?: boolean; signal?: AbortSignal | undefined },
  ): Promise<RecordOutcome> {
    const counts = { calls: 0 }
    const transport = importTransport(this.options.transport, counts, options.signal)
    const deps: RecordSagaDeps = { ...this.options.saga, upstream: importUpstream(transport, () => ({})) }
    const attempts = this.options.attempts ?? 3
    const createdBefore = { customer: false, payment_method: false, address: false, subscriptions: 0 }
    let outcome: RecordOutcome
    for (let attempt = 1; ; attempt += 1) {
      outcome = await importRecord(deps, index, record, { dryRun: options.dryRun ?? false })
      if (outcome.status !== 'failed' || !outcome.retryable || attempt >= attempts || options.signal?.aborted) break
      // What a failed attempt created stays created: the next attempt finds it.
      createdBefore.customer ||= outcome.created.customer
      createdBefore.payment_method ||= outcome.created.payment_method
      createdBefore.address ||= outcome.created.address
      createdBefore.subscriptions += outcome.created.subscriptions
      await new Promise((resolve) => setTimeout(resolve, 1_000 * attempt))
    }
    const created = outcome.created
    created.customer ||= createdBefore.customer
    created.payment_method ||= createdBefore.payment_method
    created.address ||= createdBefore.address
    created.subscriptions += createdBefore.subscriptions
    if (outcome.status === 'found' && (created.customer || created.payment_method || created.address))
      outcome.status = 'created'
    outcome.calls = counts.calls
    return outcome
  }
}

/**
 * The transport one record's saga uses: the background lane (a shopper's call never waits behind an import), the
 * run's abort signal, and a count of the calls sent, refused ones included (a 422 spent the budget too).
 */
function importTransport(
  inner: RechargeTransport,
  counts: { calls: number },
  signal: AbortSignal | undefined,
): RechargeTransport {
  return {
    async send<T>(request: UpstreamRequest<T>, options: CallOptions = {}): Promise<T> {
      signal?.throwIfAborted()
      try {
        return await inner.send(request, { ...options, lane: 'background', ...(signal ? { signal } : {}) })
      } finally {
        counts.calls += 1
      }
    },
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

function customerKey(record: unknown): string {
  const email = (record as { customer?: { email?: unknown } } | null)?.customer?.email
  return typeof email === 'string' ? normaliseEmail(email) : `record:${randomUUID()}`
}
