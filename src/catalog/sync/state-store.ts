import { randomUUID } from 'node:crypto'
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import type { RedisClient } from '../../infra/redis.ts'
import type { SyncJobStatus } from './types.ts'

/**
 * Where a sync keeps what must outlive one process: the per-store lock (one sync at a time), the checkpoint (resume)
 * and job statuses (progress for `GET /v1/admin/catalog/sync/:id`). With Redis, all replicas and the CLI share them;
 * without it, the checkpoint is a local state file and the lock a lock file, so the CLI and a one-replica server on
 * the same machine still exclude each other.
 */
export interface SyncStateStore {
  /** Take the store's sync lock for `jobId`; returns the holder's job id when someone else has it. */
  acquire(jobId: string, ttlMs: number): Promise<{ ok: true } | { ok: false; holder: string }>
  /** Extend the lock while the job runs (false: it was lost). */
  renew(jobId: string, ttlMs: number): Promise<boolean>
  release(jobId: string): Promise<void>
  loadCheckpoint(): Promise<Checkpoint | null>
  saveCheckpoint(checkpoint: Checkpoint): Promise<void>
  clearCheckpoint(): Promise<void>
  saveJob(status: SyncJobStatus): Promise<void>
  loadJob(jobId: string): Promise<SyncJobStatus | null>
}

export interface Checkpoint {
  jobId: string
  /** SHA-256 of the canonical feed: a checkpoint only resumes the same feed. */
  feedHash: string
  startedAt: string
  updatedAt: string
  /** Products whose writes all completed. */
  done: string[]
  writes: number
  /** An async batch submitted (or being filled) when the run stopped: a resumed run waits for it first. */
  batch: { id: string; type: string; submitted: boolean } | null
}

const JOB_TTL_SECONDS = 7 * 24 * 3600

const RELEASE_IF_OWNER = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`
const RENEW_IF_OWNER = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`

/** Keys share the `{fingerprint}` hash tag of the token's other keys (Redis Cluster safe). */
export class RedisSyncStateStore implements SyncStateStore {
  private readonly redis: RedisClient
  private readonly prefix: string

  constructor(redis: RedisClient, prefix: string) {
    this.redis = redis
    this.prefix = prefix
  }

  private key(name: string): string {
    return `${this.prefix}:catalog:${name}`
  }

  async acquire(jobId: string, ttlMs: number): Promise<{ ok: true } | { ok: false; holder: string }> {
    const set = await this.redis.set(this.key('sync-lock'), jobId, {
      condition: 'NX',
      expiration: { type: 'PX', value: ttlMs },
    })
    if (set === 'OK') return { ok: true as const }
    const holder = await this.redis.get(this.key('sync-lock'))
    if (holder === null) return this.acquire(jobId, ttlMs)
    // Our own id: an earlier attempt's SET succeeded but its reply was lost.
    if (holder === jobId) return { ok: true as const }
    return { ok: false as const, holder }
  }

  async renew(jobId: string, ttlMs: number) {
    const renewed = await this.redis.eval(RENEW_IF_OWNER, {
      keys: [this.key('sync-lock')],
      arguments: [jobId, String(ttlMs)],
    })
    return renewed === 1
  }

  async release(jobId: string) {
    await this.redis.eval(RELEASE_IF_OWNER, { keys: [this.key('sync-lock')], arguments: [jobId] })
  }

  async loadCheckpoint() {
    const text = await this.redis.get(this.key('checkpoint'))
    return text ? (JSON.parse(text) as Checkpoint) : null
  }

  async saveCheckpoint(checkpoint: Checkpoint) {
    await this.redis.set(this.key('checkpoint'), JSON.stringify(checkpoint), {
      expiration: { type: 'EX', value: JOB_TTL_SECONDS },
    })
  }

  async clearCheckpoint() {
    await this.redis.del(this.key('checkpoint'))
  }

  async saveJob(status: SyncJobStatus) {
    await this.redis.set(this.key(`job:${status.id}`), JSON.stringify(status), {
      expiration: { type: 'EX', value: JOB_TTL_SECONDS },
    })
  }

  async loadJob(jobId: string) {
    const text = await this.redis.get(this.key(`job:${jobId}`))
    return text ? (JSON.parse(text) as SyncJobStatus) : null
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * One machine, no Redis: checkpoint in a JSON state file (written atomically: temp file + rename), lock as an
 * exclusive-create lock file holding `{pid, jobId}` (a holder whose process is gone is stale), jobs in memory.
 */
export class FileSyncStateStore implements SyncStateStore {
  private readonly stateFile: string
  private readonly lockFile: string
  private readonly jobs = new Map<string, SyncJobStatus>()

  constructor(stateFile: string) {
    this.stateFile = stateFile
    this.lockFile = `${stateFile}.lock`
  }

  async acquire(jobId: string, _ttlMs: number): Promise<{ ok: true } | { ok: false; holder: string }> {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        const fd = openSync(this.lockFile, 'wx')
        writeFileSync(fd, JSON.stringify({ pid: process.pid, jobId }))
        closeSync(fd)
        return { ok: true }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
        const holder = this.readLock()
        if (holder && processAlive(holder.pid)) return { ok: false, holder: holder.jobId }
        rmSync(this.lockFile, { force: true })
      }
    }
    return { ok: false, holder: this.readLock()?.jobId ?? 'unknown' }
  }

  private readLock(): { pid: number; jobId: string } | null {
    try {
      return JSON.parse(readFileSync(this.lockFile, 'utf8')) as { pid: number; jobId: string }
    } catch {
      return null
    }
  }

  async renew(jobId: string) {
    return this.readLock()?.jobId === jobId
  }

  async release(jobId: string) {
    if (this.readLock()?.jobId === jobId) rmSync(this.lockFile, { force: true })
  }

  async loadCheckpoint() {
    try {
      return JSON.parse(readFileSync(this.stateFile, 'utf8')) as Checkpoint
    } catch {
      return null
    }
  }

  async saveCheckpoint(checkpoint: Checkpoint) {
    const temp = `${this.stateFile}.${randomUUID()}.tmp`
    writeFileSync(temp, JSON.stringify(checkpoint, null, 2))
    renameSync(temp, this.stateFile)
  }

  async clearCheckpoint() {
    rmSync(this.stateFile, { force: true })
  }

  async saveJob(status: SyncJobStatus) {
    this.jobs.set(status.id, structuredClone(status))
  }

  async loadJob(jobId: string) {
    return this.jobs.get(jobId) ?? null
  }
}

export const DEFAULT_STATE_FILE = '.catalog-sync-state.json'
