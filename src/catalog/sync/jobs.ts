import { randomUUID } from 'node:crypto'
import { AppError } from '../../errors.ts'
import { withRetries } from '../../infra/saga.ts'
import { catalogTags } from '../types.ts'
import { runCatalogSync, type SyncEngineDeps, type SyncLog } from './engine.ts'
import { FeedInvalidError } from './feed-invalid.ts'
import type { SyncStateStore } from './state-store.ts'
import type { PlanStrategy, SyncJobStatus, SyncProgress } from './types.ts'

export interface StartSyncOptions {
  feed: unknown
  dryRun?: boolean
  deleteMissing?: boolean
  allowMassDelete?: boolean
  /** false: a run that would delete any product is refused (the CLI without --yes). Default true. */
  allowDeletes?: boolean
  planStrategy?: PlanStrategy
  source: 'api' | 'cli'
  /** Observes each upstream write (tests). */
  afterWrite?: (method: string, path: string) => void
}

export type StartSyncResult =
  | { ok: true; job: SyncJobStatus; done: Promise<SyncJobStatus> }
  | { ok: false; holder: string }

const LOCK_TTL_MS = 60_000

function initialProgress(): SyncProgress {
  return {
    phase: 'queued',
    totalWrites: 0,
    writes: 0,
    reads: 0,
    productsDone: 0,
    productsToChange: 0,
    etaSeconds: null,
  }
}

function safeMessage(error: unknown): string {
  if (error && typeof error === 'object' && 'toAppError' in error && typeof error.toAppError === 'function') {
    const appError = (error.toAppError as () => { code: string; detail?: string; title: string })()
    return `${appError.code}: ${appError.detail ?? appError.title}`
  }
  return error instanceof Error && error.name === 'AbortError' ? 'aborted' : 'internal error'
}

/**
 * Catalog sync jobs of one store: at most one writing sync at a time (the store lock, shared through Redis with every
 * replica and the CLI), each job run in the background with its status saved for `GET /v1/admin/catalog/sync/:id`.
 * Dry runs take no lock (they only read).
 */
export class CatalogSyncJobs {
  private readonly deps: Omit<SyncEngineDeps, 'state'>
  private readonly state: SyncStateStore
  private readonly log: SyncLog | undefined
  private readonly running = new Map<
    string,
    { status: SyncJobStatus; controller: AbortController; done: Promise<SyncJobStatus> }
  >()

  private readonly onFinish: ((status: SyncJobStatus) => void) | undefined
  private readonly invalidate: ((tags: string[]) => Promise<void>) | undefined

  /**
   * `invalidate` drops the storefront's cached entries of the products a run wrote (their `product:<id>` tags and
   * `catalog`), as soon as the run ends — Recharge sends no webhook for product records. `onFinish` observes every
   * finished job (the plugin turns it into metrics).
   */
  constructor(
    deps: SyncEngineDeps & {
      onFinish?: (status: SyncJobStatus) => void
      invalidate?: (tags: string[]) => Promise<void>
    },
  ) {
    const { state, onFinish, invalidate, ...rest } = deps
    this.deps = rest
    this.state = state
    this.log = deps.log
    this.onFinish = onFinish
    this.invalidate = invalidate
  }

  async start(options: StartSyncOptions): Promise<StartSyncResult> {
    const id = randomUUID()
    const dryRun = options.dryRun ?? false
    if (!dryRun) {
      const lock = await withRetries(() => this.state.acquire(id, LOCK_TTL_MS)).catch((error: unknown) => {
        // Without the lock we cannot promise one sync per store: refuse rather than risk two writers.
        throw new AppError('SERVICE_UNAVAILABLE', {
          detail: 'The catalog sync lock store is unavailable',
          cause: error,
        })
      })
      if (!lock.ok) return { ok: false, holder: lock.holder }
    }
    const status: SyncJobStatus = {
      id,
      state: 'running',
      dryRun,
      source: options.source,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      progress: initialProgress(),
      report: null,
      issues: null,
      error: null,
    }
    await this.state.saveJob(status).catch(() => {})
    const controller = new AbortController()
    const done = this.run(status, controller, options)
    this.running.set(id, { status, controller, done })
    return { ok: true, job: structuredClone(status), done }
  }

  private async run(
    status: SyncJobStatus,
    controller: AbortController,
    options: StartSyncOptions,
  ): Promise<SyncJobStatus> {
    let lastSaved = 0
    const persist = async (force: boolean) => {
      const now = Date.now()
      if (!force && now - lastSaved < 1_000) return
      lastSaved = now
      await withRetries(() => this.state.saveJob(status)).catch(() => {})
    }
    const renewal = status.dryRun
      ? null
      : setInterval(() => {
          this.state
            .renew(status.id, LOCK_TTL_MS)
            .then((held) => {
              if (!held) controller.abort(new Error('the sync lock was lost'))
            })
            .catch(() => {})
        }, LOCK_TTL_MS / 3)
    renewal?.unref()
    const changed = new Set<string>()
    // The outcome is built aside and published last: whoever sees a final state may start the next sync at once,
    // so the lock must already be free and the cache already invalidated by then.
    const outcome: Pick<SyncJobStatus, 'state' | 'report' | 'issues' | 'error'> = {
      state: 'failed',
      report: null,
      issues: null,
      error: null,
    }
    try {
      const report = await runCatalogSync(
        { ...this.deps, state: this.state },
        {
          jobId: status.id,
          feed: options.feed,
          dryRun: status.dryRun,
          ...(options.deleteMissing === undefined ? {} : { deleteMissing: options.deleteMissing }),
          ...(options.allowMassDelete ? { allowMassDelete: true } : {}),
          ...(options.allowDeletes === false ? { allowDeletes: false } : {}),
          ...(options.planStrategy ? { planStrategy: options.planStrategy } : {}),
          ...(options.afterWrite ? { afterWrite: options.afterWrite } : {}),
          onChanged: (id) => changed.add(id),
          signal: controller.signal,
          onProgress: (progress) => {
            status.progress = progress
            void persist(false)
          },
        },
      )
      outcome.report = report
      outcome.state = report.errors.length > 0 ? 'partial' : 'succeeded'
    } catch (error) {
      if (error instanceof FeedInvalidError) {
        outcome.state = 'invalid'
        outcome.issues = error.issues.slice(0, 1000)
        outcome.error = error.message
      } else if (controller.signal.aborted) {
        outcome.state = 'cancelled'
        outcome.error = 'the sync was interrupted; run it again to resume'
      } else {
        outcome.state = 'failed'
        outcome.error = safeMessage(error)
        this.log?.warn({ jobId: status.id, error: outcome.error }, 'catalog sync failed')
      }
    } finally {
      if (renewal) clearInterval(renewal)
      if (changed.size > 0 && this.invalidate) {
        const tags = ['catalog', ...[...changed].map((id) => catalogTags.product(id))]
        await this.invalidate(tags).catch((error: unknown) => {
          this.log?.warn({ jobId: status.id, error: safeMessage(error) }, 'catalog sync: cache invalidation failed')
        })
      }
      if (!status.dryRun) await withRetries(() => this.state.release(status.id)).catch(() => {})
      Object.assign(status, outcome, { finishedAt: new Date().toISOString() })
      await persist(true)
      this.running.delete(status.id)
      this.onFinish?.(status)
    }
    return structuredClone(status)
  }

  /** The job's status: this process's live copy first, then the shared store (another replica, the CLI). */
  async get(id: string): Promise<SyncJobStatus | null> {
    const live = this.running.get(id)
    if (live) return structuredClone(live.status)
    return this.state.loadJob(id).catch(() => null)
  }

  /** Stop the job (it keeps its checkpoint: the next run resumes). */
  cancel(id: string): boolean {
    const live = this.running.get(id)
    if (!live) return false
    live.controller.abort(new Error('cancelled'))
    return true
  }

  /** On shutdown: interrupt running jobs and wait for them to record their state. */
  async close(): Promise<void> {
    const all = [...this.running.values()]
    for (const job of all) job.controller.abort(new Error('shutting down'))
    await Promise.allSettled(all.map((job) => job.done))
  }
}
