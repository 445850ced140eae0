import type { RecordOutcome } from './outcome.ts'
import {
  countsFrom,
  type ImportRunStore,
  increments,
  type RunCounts,
  type RunMeta,
  type RunState,
} from './run-store.ts'

/** One process without Redis: runs live as long as the process (no takeover, nothing to take over from). */
export class MemoryImportRunStore implements ImportRunStore {
  private readonly runs = new Map<
    string,
    {
      meta: RunMeta
      records: readonly string[]
      outcomes: Map<number, string>
      counts: Record<string, number>
      failures: Map<number, RecordOutcome>
      lease: { owner: string; until: number } | null
    }
  >()

  private run(id: string) {
    const run = this.runs.get(id)
    if (!run) throw new Error(`no import run ${id}`)
    return run
  }

  async create(meta: RunMeta, records: readonly string[]): Promise<void> {
    this.runs.set(meta.id, {
      meta: { ...meta },
      records,
      outcomes: new Map(),
      counts: {},
      failures: new Map(),
      lease: null,
    })
  }

  async meta(id: string): Promise<RunMeta | null> {
    const run = this.runs.get(id)
    return run ? { ...run.meta } : null
  }

  async setState(id: string, state: RunState): Promise<void> {
    const run = this.run(id)
    run.meta.state = state
    if (state !== 'done') return
    run.meta.finished_at = new Date().toISOString()
    run.records = []
  }

  async records(id: string, start: number, end: number): Promise<string[]> {
    return this.run(id).records.slice(start, end)
  }

  async doneIndexes(id: string): Promise<Set<number>> {
    return new Set(this.run(id).outcomes.keys())
  }

  async saveOutcome(id: string, outcome: RecordOutcome): Promise<void> {
    const run = this.run(id)
    const add = (field: string, by: number) => {
      run.counts[field] = (run.counts[field] ?? 0) + by
    }
    const previous = run.outcomes.get(outcome.index)
    if (previous) add(previous, -1)
    else add('done', 1)
    run.outcomes.set(outcome.index, outcome.status)
    add(outcome.status, 1)
    if (outcome.status === 'failed') run.failures.set(outcome.index, outcome)
    else run.failures.delete(outcome.index)
    for (const [field, by] of increments(outcome)) add(field, by)
  }

  async counts(id: string): Promise<RunCounts> {
    return countsFrom(this.run(id).counts)
  }

  async failures(id: string, limit: number): Promise<RecordOutcome[]> {
    return [...this.run(id).failures.values()].sort((a, b) => a.index - b.index).slice(0, limit)
  }

  async acquireLease(id: string, owner: string, ttlMs: number): Promise<boolean> {
    const run = this.run(id)
    if (run.lease && run.lease.until > Date.now() && run.lease.owner !== owner) return false
    run.lease = { owner, until: Date.now() + ttlMs }
    return true
  }

  async renewLease(id: string, owner: string, ttlMs: number): Promise<boolean> {
    const run = this.run(id)
    if (run.lease?.owner !== owner) return false
    run.lease.until = Date.now() + ttlMs
    return true
  }

  async releaseLease(id: string, owner: string): Promise<void> {
    const run = this.run(id)
    if (run.lease?.owner === owner) run.lease = null
  }

  async unfinished(): Promise<string[]> {
    return [...this.runs.values()].filter((run) => run.meta.state !== 'done').map((run) => run.meta.id)
  }
}
