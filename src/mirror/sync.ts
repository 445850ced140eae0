import { randomBytes } from 'node:crypto'
import type { RedisClient } from '../infra/redis.ts'
import type { RechargeTransport } from '../recharge/types.ts'
import { FULL_PASS, fetchPage, type MirrorList, RECONCILE_PASS } from './lists.ts'
import type { MirrorStore } from './store.ts'
import { dropUnlisted, markListed, SWEEP_PASS } from './sweep.ts'

/**
 * The background sync: one replica at a time (the holder of a Redis lease) pages Recharge's lists into the mirror.
 * A pass is a sequence of lists walked page by page; after each page its position (list index and cursor) is saved,
 * so a replica taking the lease over (the leader died or shut down) goes on from there instead of starting again.
 *
 *   full pass      every customer, address, subscription, upcoming charge, onetime and payment method;
 *                  the mirror is `ready` once the first one completes
 *   reconciliation every MIRROR_RECONCILE_SECONDS: what changed since the previous pass started (less an overlap for
 *                  clock skew and records written during that pass), so lost webhooks heal
 *   sweep          every MIRROR_SWEEP_SECONDS: the lists of what Recharge deletes, whole, then every mirrored record
 *                  they no longer have is dropped, so lost deletions heal too (sweep.ts)
 *
 * Every call is in the background lane of the shared queue: a shopper waiting keeps their share of the bucket.
 */

interface Pass {
  kind: 'full' | 'reconcile' | 'sweep'
  startedAt: number
  /** updated_at_min of a reconciliation (ISO), null for a full pass. */
  since: string | null
  step: number
  /** The list at `step`, by name: a replica of another version resumes at the same list even if the order changed. */
  list?: string
  cursor: string | null
}

export interface SyncSnapshot {
  ready: boolean
  lastPassStartedAt: number | null
  lastReconciledAt: number | null
  /** Reconciliations failed in a row (reset by a complete one). */
  failures: number
  /** Newest webhook applied: when the bridge received it and how long it took to apply. */
  lastEventAt: number | null
  lastEventLagMs: number | null
  passing: Pass['kind'] | null
}

export interface SyncLog {
  info(object: object, message: string): void
  warn(object: object, message: string): void
}

export interface MirrorSyncOptions {
  redis: RedisClient
  store: MirrorStore
  transport: RechargeTransport
  reconcileMs: number
  /** Lease lifetime; renewed after each page and each tick. Default 15 s. */
  leaseMs?: number
  /** How often a replica tries for the lease and checks whether a pass is due. Default 1 s. */
  tickMs?: number
  /** How far before the previous pass's start reconciliation looks (and the sweep's margin). Default 60 s. */
  overlapMs?: number
  /** How often the sweep runs (deletions whose webhook was lost). Default: never. */
  sweepMs?: number
  log: SyncLog
  /** Called after each applied page (metrics). */
  onPage?: (list: string, records: number) => void
}

/** Renew only while the lease is still ours (another replica may hold it after an expiry). */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`

/** Reconciliations failing this many times in a row put the mirror in `degraded` (reads fall back). */
export const DEGRADED_AFTER_FAILURES = 3

const APPLY_BATCH = 50

/** Failed attempts at one page before its list is paged again from the start. */
const RESTART_LIST_AFTER = 3

export class MirrorSync {
  readonly replicaId = randomBytes(8).toString('hex')
  private readonly options: MirrorSyncOptions
  private readonly redis: RedisClient
  private readonly leaseMs: number
  private readonly tickMs: number
  private readonly overlapMs: number
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private abort = new AbortController()
  private stopped = false
  private leading = false
  private failedPasses = 0
  private retryAt = 0

  constructor(options: MirrorSyncOptions) {
    this.options = options
    this.redis = options.redis
    this.leaseMs = options.leaseMs ?? 15_000
    this.tickMs = options.tickMs ?? 1_000
    this.overlapMs = options.overlapMs ?? 60_000
  }

  get leaseKey(): string {
    return `${this.options.store.prefix}:lease`
  }

  get stateKey(): string {
    return `${this.options.store.prefix}:sync`
  }

  get isLeader(): boolean {
    return this.leading
  }

  start(): void {
    this.stopped = false
    this.schedule(0)
  }

  private schedule(ms: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = null
        this.schedule(this.tickMs)
      })
    }, ms)
    this.timer.unref()
  }

  /** Stop: abort the page in flight (its checkpoint stays at the page before) and hand the lease back. */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.abort.abort()
    await this.running?.catch(() => {})
    if (this.leading) {
      this.leading = false
      await this.redis.eval(RELEASE, { keys: [this.leaseKey], arguments: [this.replicaId] }).catch(() => undefined)
    }
  }

  /** Take or keep the lease; false when another replica holds it or Redis did not answer. */
  private async holdLease(): Promise<boolean> {
    try {
      if (this.leading) {
        const renewed = await this.redis.eval(RENEW, {
          keys: [this.leaseKey],
          arguments: [this.replicaId, String(this.leaseMs)],
        })
        this.leading = renewed === 1
        if (!this.leading) this.options.log.warn({}, 'mirror sync: lease lost, stopping')
      } else {
        const taken = await this.redis.set(this.leaseKey, this.replicaId, { NX: true, PX: this.leaseMs })
        this.leading = taken === 'OK'
        if (this.leading) this.options.log.info({ replica: this.replicaId }, 'mirror sync: lease taken')
      }
    } catch {
      this.leading = false
    }
    return this.leading
  }

  private async tick(): Promise<void> {
    if (this.stopped || !(await this.holdLease())) return
    // After a failed pass, wait (doubling up to a minute) before the next attempt: the lease is kept meanwhile.
    if (Date.now() < this.retryAt) return
    let pass: Pass | null
    try {
      pass = await this.duePass()
    } catch {
      return
    }
    if (!pass) return
    try {
      await this.run(pass)
      this.failedPasses = 0
    } catch (error) {
      if (this.stopped) return
      this.failedPasses += 1
      this.retryAt = Date.now() + Math.min(60_000, this.tickMs * 2 ** Math.min(this.failedPasses, 10))
      this.options.log.warn({ err: { message: (error as Error).message }, pass: pass.kind }, 'mirror sync: pass failed')
      if (pass.kind === 'reconcile') await this.redis.hIncrBy(this.stateKey, 'failures', 1).catch(() => undefined)
      // A checkpointed cursor Recharge no longer takes (cursors can expire) would fail the pass forever: after a few
      // failures, that list starts again from its first page (records already applied stay; newest wins).
      if (this.failedPasses >= RESTART_LIST_AFTER && pass.cursor && this.leading) {
        pass.cursor = null
        await this.redis.hSet(this.stateKey, 'pass', JSON.stringify(pass)).catch(() => undefined)
      }
    }
  }

  /** The pass to work on now: the one in progress, else a first full pass, else a reconciliation when due. */
  private async duePass(): Promise<Pass | null> {
    const state = await this.redis.hGetAll(this.stateKey)
    if (state.pass) return JSON.parse(state.pass) as Pass
    const now = Date.now()
    if (state.ready !== '1') return { kind: 'full', startedAt: now, since: null, step: 0, cursor: null }
    const last = Number(state.last_pass_started_at ?? 0)
    const reconciled = Number(state.last_reconciled_at ?? 0)
    if (now - reconciled < this.options.reconcileMs) {
      const swept = Number(state.last_swept_at ?? last)
      if (!this.options.sweepMs || now - swept < this.options.sweepMs) return null
      return { kind: 'sweep', startedAt: now, since: null, step: 0, cursor: null }
    }
    return {
      kind: 'reconcile',
      startedAt: now,
      since: new Date(Math.max(0, last - this.overlapMs)).toISOString(),
      step: 0,
      cursor: null,
    }
  }

  /** Walk the pass from its checkpoint, saving the position after each page; stops when the lease is lost. */
  private async run(pass: Pass): Promise<void> {
    const lists: readonly MirrorList[] =
      pass.kind === 'full' ? FULL_PASS : pass.kind === 'sweep' ? SWEEP_PASS : RECONCILE_PASS
    const named = pass.list ? lists.findIndex((list) => list.name === pass.list) : -1
    if (named >= 0) pass.step = named
    await this.redis.hSet(this.stateKey, 'pass', JSON.stringify(pass))
    while (pass.step < lists.length) {
      if (this.stopped) return
      const list = lists[pass.step] as MirrorList
      const page = await fetchPage(
        this.options.transport,
        list,
        { cursor: pass.cursor, updatedAtMin: pass.since },
        { lane: 'background', signal: this.abort.signal },
      )
      // Distinct records: applied side by side, a bounded batch at a time.
      for (let start = 0; start < page.records.length; start += APPLY_BATCH) {
        await Promise.all(
          page.records.slice(start, start + APPLY_BATCH).map((record) => this.options.store.apply(record)),
        )
      }
      if (pass.kind === 'sweep') await markListed(this.redis, this.options.store, page.records)
      this.options.onPage?.(list.name, page.records.length)
      if (page.unusable > 0) this.options.log.warn({ list: list.name, rows: page.unusable }, 'mirror: rows left out')
      pass.cursor = page.nextCursor
      if (!pass.cursor) pass.step += 1
      pass.list = lists[pass.step]?.name
      // Still ours? A replica whose lease lapsed (a long GC pause) must not write a checkpoint over the new leader's.
      if (!(await this.holdLease())) return
      await this.redis.hSet(this.stateKey, 'pass', JSON.stringify(pass))
    }
    if (pass.kind === 'sweep') {
      const swept = await dropUnlisted(this.redis, this.options.store, pass.startedAt - this.overlapMs)
      await this.redis
        .multi()
        .hSet(this.stateKey, 'last_swept_at', String(Date.now()))
        .hDel(this.stateKey, 'pass')
        .exec()
      this.options.log.info(
        { pass: pass.kind, ms: Date.now() - pass.startedAt, ...swept },
        'mirror sync: sweep complete',
      )
      return
    }
    const done: Record<string, string> = {
      ready: '1',
      last_pass_started_at: String(pass.startedAt),
      last_reconciled_at: String(Date.now()),
      failures: '0',
      // A full pass has just read everything: the first sweep is a period away.
      ...(pass.kind === 'full' ? { last_swept_at: String(Date.now()) } : {}),
    }
    await this.redis.multi().hSet(this.stateKey, done).hDel(this.stateKey, 'pass').exec()
    this.options.log.info({ pass: pass.kind, ms: Date.now() - pass.startedAt }, 'mirror sync: pass complete')
  }

  /** Record that a webhook was applied (for lag_ms). */
  async eventApplied(receivedAt: number): Promise<void> {
    const now = Date.now()
    await this.redis.hSet(this.stateKey, {
      last_event_at: String(now),
      last_event_lag_ms: String(Math.max(0, now - receivedAt)),
    })
  }

  async snapshot(): Promise<SyncSnapshot> {
    const state = await this.redis.hGetAll(this.stateKey)
    const number = (value: string | undefined) => (value === undefined ? null : Number(value))
    return {
      ready: state.ready === '1',
      lastPassStartedAt: number(state.last_pass_started_at),
      lastReconciledAt: number(state.last_reconciled_at),
      failures: Number(state.failures ?? 0),
      lastEventAt: number(state.last_event_at),
      lastEventLagMs: number(state.last_event_lag_ms),
      passing: state.pass ? (JSON.parse(state.pass) as Pass).kind : null,
    }
  }
}
