import { z } from 'zod'
import type { Metrics } from '../infra/metrics/registry.ts'
import type { RedisClient } from '../infra/redis.ts'
import { RechargeNotFoundError } from '../recharge/errors.ts'
import type { CallOptions, RechargeTransport } from '../recharge/types.ts'
import { FULL_PASS, fetchPage, type MirrorList } from './lists.ts'
import { kindOfResource, type MirrorAccount, type MirrorKind, type MirrorRecord, mirrorRecord } from './records.ts'
import { MirrorStore } from './store.ts'
import { DEGRADED_AFTER_FAILURES, MirrorSync, type SyncLog, type SyncSnapshot } from './sync.ts'

export type MirrorState = 'warming' | 'ready' | 'degraded'

/** GET /v1/admin/mirror (names fixed by DESIGN.md). */
export interface MirrorStatus {
  state: MirrorState
  customers: number
  subscriptions: number
  charges: number
  /** How long the newest applied webhook took from the bridge's intake to the mirror, ms; null before any. */
  lag_ms: number | null
  last_reconciled_at: string | null
}

/** Knobs tests and embedders may set through `buildApp(config, { mirror: … })`. */
export interface MirrorTuning {
  /** Extra namespace under `<REDIS_KEY_PREFIX>:mirror` (tests isolate files sharing one Redis). */
  namespace?: string
  leaseMs?: number
  tickMs?: number
  overlapMs?: number
  /** Overrides MIRROR_SWEEP_SECONDS (tests sweep within seconds). */
  sweepMs?: number
  /** How often each replica re-reads the shared sync state (warming → ready). Default 1 s. */
  statusMs?: number
  /** Run the leader election and sync on this replica. Default: background workers are on. */
  sync?: boolean
}

export interface MirrorServiceOptions {
  redis: RedisClient
  prefix: string
  transport: RechargeTransport
  reconcileMs: number
  /** How often the sweep drops records Recharge no longer lists (lost deletions). Default: never. */
  sweepMs?: number | undefined
  tuning?: MirrorTuning | undefined
  log: SyncLog
  metrics?: Metrics | undefined
}

/** Room for a long pass (a large store's reconciliation at 2 calls/s) on top of three periods. */
const OVERDUE_SLACK_MS = 10 * 60_000

/** Where Recharge answers one record of a kind whose deletion an event reports. */
const RECORD_PATHS: Partial<Record<MirrorKind, string>> = {
  customer: '/customers',
  address: '/addresses',
  subscription: '/subscriptions',
  charge: '/charges',
  onetime: '/onetimes',
}

const anyObject = z.record(z.string(), z.unknown())

/** Topics whose payload is a record the mirror keeps; `*\/deleted` name only the id. */
const DELETIONS = new Set(['subscription/deleted', 'onetime/deleted', 'charge/deleted', 'address/deleted'])

/** What a shopper's write may change: re-read for the customer right after it (payment methods are not written). */
const AFTER_WRITE: readonly MirrorList[] = FULL_PASS.filter((list) => list.kind !== 'payment_method')

/**
 * The mirror as the rest of the bridge sees it: the state every replica agrees on (from Redis, re-read each second),
 * the shopper read path (`account`, `customerIdFor`, which answer null whenever the mirror cannot vouch for the
 * answer, so the caller falls back to the cache and Recharge), webhook application and the write-through refresh.
 */
export class MirrorService {
  readonly store: MirrorStore
  readonly sync: MirrorSync
  private readonly options: MirrorServiceOptions
  private snapshot: SyncSnapshot | null = null
  private redisFailing = false
  private statusTimer: NodeJS.Timeout | null = null
  private readonly gauges: ReturnType<typeof mirrorMetrics> | null

  constructor(options: MirrorServiceOptions) {
    this.options = options
    const namespace = options.tuning?.namespace
    this.store = new MirrorStore(options.redis, namespace ? `${options.prefix}:${namespace}` : options.prefix)
    this.gauges = options.metrics ? mirrorMetrics(options.metrics) : null
    this.sync = new MirrorSync({
      redis: options.redis,
      store: this.store,
      transport: options.transport,
      reconcileMs: options.reconcileMs,
      log: options.log,
      ...((options.tuning?.sweepMs ?? options.sweepMs) ? { sweepMs: options.tuning?.sweepMs ?? options.sweepMs } : {}),
      ...(options.tuning?.leaseMs ? { leaseMs: options.tuning.leaseMs } : {}),
      ...(options.tuning?.tickMs ? { tickMs: options.tuning.tickMs } : {}),
      ...(options.tuning?.overlapMs !== undefined ? { overlapMs: options.tuning.overlapMs } : {}),
      onPage: (list) => this.gauges?.pages.inc({ list }),
    })
  }

  /** Follow the shared state; lead the sync when `runSync`. */
  start(runSync: boolean): void {
    void this.status()
    // status() also moves the /metrics gauges, so they follow without anyone asking the admin route.
    this.statusTimer = setInterval(() => void this.status(), this.options.tuning?.statusMs ?? 1_000)
    this.statusTimer.unref()
    if (runSync) this.sync.start()
  }

  async stop(): Promise<void> {
    if (this.statusTimer) clearInterval(this.statusTimer)
    await this.sync.stop()
  }

  /**
   * ready only when a full pass has completed, Redis answers, and reconciliation is neither failing repeatedly nor
   * overdue: with no replica leading the sync (every one with background workers off, or stuck), lost webhooks would
   * never heal, so after three periods without a completed pass the mirror stops vouching for its records.
   */
  get state(): MirrorState {
    const snapshot = this.snapshot
    if (this.redisFailing || (snapshot && snapshot.failures >= DEGRADED_AFTER_FAILURES)) return 'degraded'
    if (!snapshot?.ready) return 'warming'
    const overdueAfter = 3 * this.options.reconcileMs + OVERDUE_SLACK_MS
    if (snapshot.lastReconciledAt !== null && Date.now() - snapshot.lastReconciledAt > overdueAfter) return 'degraded'
    return 'ready'
  }

  async refreshState(): Promise<void> {
    try {
      this.snapshot = await this.sync.snapshot()
      this.redisFailing = false
    } catch {
      this.redisFailing = true
    }
  }

  /** The customer's mirrored account, or null: the caller then reads the cache and Recharge as without a mirror. */
  async account(customerId: string): Promise<MirrorAccount | null> {
    if (this.state !== 'ready') return null
    try {
      const account = await this.store.account(customerId)
      this.gauges?.reads.inc({ outcome: account ? 'hit' : 'miss' })
      return account
    } catch {
      this.gauges?.reads.inc({ outcome: 'error' })
      return null
    }
  }

  /** The customer an email or external id names, when the mirror is ready and has them; else null (fall back). */
  async customerIdFor(reference: { email: string } | { externalCustomerId: string }): Promise<string | null> {
    if (this.state !== 'ready') return null
    try {
      return await this.store.customerIdBy(reference)
    } catch {
      return null
    }
  }

  /** Apply one webhook (newest updated_at wins; `customer/deleted` forgets the customer). Throws to be retried. */
  async applyEvent(topic: string, resource: string, raw: Record<string, unknown>, receivedAt: number): Promise<void> {
    const kind = kindOfResource(resource)
    if (!kind) return
    let outcome: string
    if (topic === 'customer/deleted' || DELETIONS.has(topic)) {
      outcome = await this.confirmDeletion(kind, String(raw.id))
    } else {
      const record = mirrorRecord(kind, raw)
      outcome = record ? await this.store.apply(record) : 'unusable'
    }
    this.gauges?.events.inc({ outcome })
    await this.sync.eventApplied(receivedAt)
  }

  /**
   * No signature covers the topic (docs/webhooks.md): a captured signed body re-posted as `…/deleted` must not erase
   * a live record. Recharge decides: 404 forgets the record (or the customer), anything else applies what it answers.
   * One background call per deletion, which Recharge reports rarely.
   */
  private async confirmDeletion(kind: MirrorKind, id: string): Promise<string> {
    const path = RECORD_PATHS[kind]
    if (!path || !/^\d{1,20}$/.test(id)) return 'unusable'
    let body: Record<string, unknown>
    try {
      body = await this.options.transport.send(
        { method: 'GET', path: `${path}/${id}`, schema: anyObject },
        { lane: 'background' },
      )
    } catch (error) {
      if (!(error instanceof RechargeNotFoundError)) throw error
      if (kind !== 'customer') return this.store.remove(kind, id)
      await this.store.forget(id)
      return 'forgotten'
    }
    const record = mirrorRecord(kind, body[kind])
    return record ? this.store.apply(record) : 'unusable'
  }

  /**
   * Write-through: after a shopper's write, re-read what it may have changed for that customer and apply it, so the
   * next page shows Recharge's answer. When that fails, the customer's reads fall back to Recharge until the next
   * reconciliation has surely seen the change.
   */
  async afterWrite(customerId: string, options: CallOptions = {}): Promise<void> {
    if (this.state === 'warming') return
    try {
      const pages = await Promise.all(AFTER_WRITE.map((list) => this.readAll(list, customerId, options)))
      const kinds: MirrorKind[] = [...new Set(AFTER_WRITE.map((list) => list.kind))]
      await this.store.replace(customerId, kinds, pages.flat())
    } catch {
      await this.store.hold(customerId, Date.now() + 2 * this.options.reconcileMs).catch(() => undefined)
    }
  }

  private async readAll(list: MirrorList, customerId: string, options: CallOptions): Promise<MirrorRecord[]> {
    const filters = list.kind === 'customer' ? { ids: customerId } : { customer_id: customerId }
    const records: MirrorRecord[] = []
    let cursor: string | null = null
    do {
      const page = await fetchPage(this.options.transport, list, { cursor, filters }, options)
      records.push(...page.records)
      cursor = page.nextCursor
    } while (cursor)
    return records
  }

  async status(): Promise<MirrorStatus> {
    await this.refreshState()
    const counts = await this.store.counts().catch(() => ({ customers: 0, subscriptions: 0, charges: 0 }))
    const snapshot = this.snapshot
    const status: MirrorStatus = {
      state: this.state,
      ...counts,
      lag_ms: snapshot?.lastEventLagMs ?? null,
      last_reconciled_at: snapshot?.lastReconciledAt ? new Date(snapshot.lastReconciledAt).toISOString() : null,
    }
    this.gauges?.record(status)
    return status
  }
}

const STATES: readonly MirrorState[] = ['warming', 'ready', 'degraded']

function mirrorMetrics(metrics: Metrics) {
  const state = metrics.gauge('recharge_bridge_mirror_state', 'Mirror state: 1 for the current one', ['state'])
  const records = metrics.gauge('recharge_bridge_mirror_records', 'Records held by the mirror', ['kind'])
  const lag = metrics.gauge(
    'recharge_bridge_mirror_lag_ms',
    'Newest applied webhook: ms from the bridge receiving it to the mirror holding it',
  )
  const reconciled = metrics.gauge(
    'recharge_bridge_mirror_last_reconciled_timestamp_seconds',
    'When the mirror last completed a pass (full or reconciliation), unix seconds',
  )
  return {
    pages: metrics.counter('recharge_bridge_mirror_sync_pages_total', 'List pages the mirror sync applied', ['list']),
    events: metrics.counter('recharge_bridge_mirror_events_total', 'Webhooks applied to the mirror, by outcome', [
      'outcome',
    ]),
    reads: metrics.counter('recharge_bridge_mirror_reads_total', 'Account reads from the mirror, by outcome', [
      'outcome',
    ]),
    record(status: MirrorStatus) {
      for (const name of STATES) state.set({ state: name }, name === status.state ? 1 : 0)
      records.set({ kind: 'customers' }, status.customers)
      records.set({ kind: 'subscriptions' }, status.subscriptions)
      records.set({ kind: 'charges' }, status.charges)
      if (status.lag_ms !== null) lag.set(status.lag_ms)
      if (status.last_reconciled_at) reconciled.set(Date.parse(status.last_reconciled_at) / 1000)
    },
  }
}
