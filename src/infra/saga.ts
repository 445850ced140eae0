import { type Clock, systemClock } from './clock.ts'

/**
 * A resumable run of steps over named items (a catalog sync's products, an import's customers): it checkpoints which
 * items are done and what is in flight, so a run interrupted by a crash or a deploy is resumed by the next run of the
 * same input, and it records a failing step instead of stopping the run. It knows nothing of what the steps do; the
 * caller's steps are idempotent (derived from a fresh read), the checkpoint adds progress and the work in flight.
 */

/** What a run persists between processes. `Pending`: the caller's work in flight (e.g. an async batch). */
export interface SagaCheckpoint<Pending> {
  jobId: string
  /** Hash of the run's input: a checkpoint only resumes a run of the same input. */
  inputHash: string
  startedAt: string
  updatedAt: string
  /** Items whose steps all completed. */
  done: string[]
  /** Writes made so far, over the runs that worked on this checkpoint. */
  writes: number
  pending: Pending | null
}

export interface SagaCheckpointStore<Pending> {
  load(): Promise<SagaCheckpoint<Pending> | null>
  save(checkpoint: SagaCheckpoint<Pending>): Promise<void>
  clear(): Promise<void>
}

export interface SagaLog {
  warn(object: Record<string, unknown>, message: string): void
}

/** One step that failed: the run goes on with the next item. */
export interface SagaStepFailure {
  item: string | null
  operation: string
  code: string
  message: string
}

export interface SagaRunOptions<Pending> {
  /** The run's name in log lines ("catalog sync"). */
  name: string
  jobId: string
  inputHash: string
  store: SagaCheckpointStore<Pending>
  /** The checkpoint found when the run began (`loadSagaCheckpoint`); resumed when it is of the same input. */
  previous: SagaCheckpoint<Pending> | null
  log: SagaLog
  /** Writes this run has made so far (counted by the caller's transport). */
  writes: () => number
  /** A client-safe code and message for a failed step. */
  describeError: (error: unknown) => { code: string; message: string }
  onFailure: (failure: SagaStepFailure) => void
  /** Told, before each step, which item it may change (one that times out may still have been applied). */
  onTouched?: ((item: string) => void) | undefined
  signal?: AbortSignal | undefined
  clock?: Clock
  /** Least time between two unforced checkpoint saves. Default 500 ms. */
  saveEveryMs?: number
}

/**
 * Run a state operation, retrying a failed one twice (Redis commands have a short timeout on a busy box). The
 * operations must be safe to repeat: SETs of whole values, owner-checked scripts.
 */
export async function withRetries<T>(operation: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await operation()
    } catch (error) {
      if (attempt >= attempts) throw error
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt))
    }
  }
}

/** The checkpoint an earlier run left, or null (also when it cannot be read: the run then starts over). */
export async function loadSagaCheckpoint<Pending>(
  store: SagaCheckpointStore<Pending>,
): Promise<SagaCheckpoint<Pending> | null> {
  return withRetries(() => store.load()).catch(() => null)
}

export class SagaRun<Pending> {
  /** This run continues the checkpoint of an interrupted run of the same input. */
  readonly resumed: boolean
  private readonly options: SagaRunOptions<Pending>
  private readonly clock: Clock
  private readonly checkpoint: SagaCheckpoint<Pending>
  private readonly done: Set<string>
  private readonly writesBefore: number
  private lastSave = 0

  constructor(options: SagaRunOptions<Pending>) {
    this.options = options
    this.clock = options.clock ?? systemClock
    const { previous } = options
    this.resumed = previous !== null && previous.inputHash === options.inputHash
    const resumedFrom = this.resumed ? previous : null
    const now = new Date(this.clock.now()).toISOString()
    this.writesBefore = resumedFrom?.writes ?? 0
    this.checkpoint = {
      jobId: options.jobId,
      inputHash: options.inputHash,
      startedAt: resumedFrom?.startedAt ?? now,
      updatedAt: now,
      done: resumedFrom?.done ?? [],
      writes: this.writesBefore,
      pending: null,
    }
    this.done = new Set(this.checkpoint.done)
  }

  isDone(item: string): boolean {
    return this.done.has(item)
  }

  /** Mark an item's steps all completed; false when it already was. */
  complete(item: string): boolean {
    if (this.done.has(item)) return false
    this.done.add(item)
    return true
  }

  /**
   * Save the checkpoint; unforced saves are throttled. Best effort: correctness comes from the steps re-reading their
   * target; the checkpoint adds the work in flight and progress.
   */
  async save(force = false): Promise<void> {
    const now = this.clock.now()
    if (!force && now - this.lastSave < (this.options.saveEveryMs ?? 500)) return
    this.lastSave = now
    this.checkpoint.updatedAt = new Date(now).toISOString()
    this.checkpoint.done = [...this.done]
    this.checkpoint.writes = this.writesBefore + this.options.writes()
    await withRetries(() => this.options.store.save(this.checkpoint)).catch((error: unknown) => {
      this.options.log.warn(
        { error: this.options.describeError(error).code },
        `${this.options.name}: checkpoint not saved`,
      )
    })
  }

  /** Record the work in flight (null when it settled), saved at once: a resumed run must find it. */
  async track(pending: Pending | null): Promise<void> {
    this.checkpoint.pending = pending
    await this.save(true)
  }

  /**
   * One step on `item`: true when it succeeded. A failure is reported (`onFailure`) and the run goes on; an abort
   * stops the run.
   */
  async attempt(item: string | null, operation: string, step: () => Promise<unknown>): Promise<boolean> {
    const { signal } = this.options
    signal?.throwIfAborted()
    if (item !== null) this.options.onTouched?.(item)
    try {
      await step()
      return true
    } catch (error) {
      if (signal?.aborted) throw error
      const { code, message } = this.options.describeError(error)
      this.options.onFailure({ item, operation, code, message })
      this.options.log.warn({ item, operation, code }, `${this.options.name}: write failed`)
      return false
    }
  }

  /** The run finished: nothing is left to resume. */
  async finish(): Promise<void> {
    await withRetries(() => this.options.store.clear()).catch(() => {})
  }
}
