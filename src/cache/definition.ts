import { setTimeout as sleep } from 'node:timers/promises'
import type { Lane } from '../infra/lane.ts'
import type { CounterSeries } from '../infra/metrics/series-counter.ts'
import type { CacheCore } from './core.ts'
import type { Entry } from './entry.ts'
import { CacheDeadlineError, CachedNotFoundError, CacheOriginFailedError, isNotFound } from './errors.ts'
import type { LocalEntry, ValueMemo } from './memory-tier.ts'
import type { LookupOutcome } from './metrics.ts'
import { LEASE_MARKER_FAILED, LEASE_MARKER_NOT_FOUND, UNAVAILABLE } from './redis-tier.ts'
import { CachedResult } from './result.ts'
import type { CacheDefinition, CachedFunction, CacheResult, CacheState } from './types.ts'

/** A background refresh found another replica already refreshing: nothing to do. */
class RefreshNotNeeded extends Error {}

type CallOptions = { deadlineMs?: number; signal?: AbortSignal }

/**
 * One `cache.define(name, …)`: lookup L1 → L2 → single-flight fill (in-process promise, then a Redis lease across
 * replicas), stale-while-revalidate, stale-if-error and negative caching of NotFound.
 */
export class Definition<A, T> {
  private readonly core: CacheCore
  private readonly name: string
  private readonly definition: CacheDefinition<A, T>
  private readonly swrMs: number
  private readonly sieMs: number
  private readonly negativeTtlMs: number
  private readonly maxEntryBytes: number
  private readonly shareValue: boolean
  private readonly outcomes: Record<LookupOutcome, { inc(): void }>

  constructor(core: CacheCore, name: string, definition: CacheDefinition<A, T>) {
    if (!(definition.ttlMs > 0)) throw new TypeError(`cache ${name}: ttlMs must be positive`)
    this.core = core
    this.name = name
    this.definition = definition
    this.swrMs = Math.max(0, definition.staleWhileRevalidateMs ?? 0)
    this.sieMs = Math.max(0, definition.staleIfErrorMs ?? 0)
    this.negativeTtlMs = Math.max(0, definition.negativeTtlMs ?? 0)
    this.maxEntryBytes = definition.maxEntryBytes ?? core.settings.maxEntryBytes
    this.shareValue = definition.shareValue === true
    // Series found once, on first use: a hit costs one addition, not a label lookup.
    const lookups = core.metrics.lookups
    const child = (outcome: LookupOutcome) => {
      let series: CounterSeries | undefined
      return {
        inc: () => {
          series ??= lookups.seriesFor(`${name} ${outcome}`, () => ({ cache: name, outcome }))
          lookups.inc(series)
        },
      }
    }
    this.outcomes = {
      hit_l1: child('hit_l1'),
      hit_l2: child('hit_l2'),
      miss: child('miss'),
      stale_revalidate: child('stale_revalidate'),
      stale_error: child('stale_error'),
      negative_hit: child('negative_hit'),
    }
  }

  /** The callable handed to feature code. */
  toFunction(): CachedFunction<A, T> {
    const call = (args: A, options?: CallOptions) => this.get(args, options)
    return Object.assign(call, { invalidate: (args: A) => this.invalidate(args), peek: (args: A) => this.peek(args) })
  }

  keyOf(args: A): string {
    return this.core.keys.entry(this.name, this.definition.key(args))
  }

  get(args: A, options?: CallOptions): Promise<CacheResult<T>> {
    const now = this.core.now()
    const key = this.keyOf(args)
    const local = this.core.l1?.get(key)
    // Hot path: a fresh L1 entry this replica may trust without asking Redis. No await, no parse.
    if (local !== undefined && this.trusted(local, now)) return this.answer(local, 'HIT', 'hit_l1', now)
    return this.lookup(key, args, local, now, options)
  }

  /**
   * The answer `get` would give at once from L1 (a fresh entry this replica may trust without asking Redis), counted
   * as that hit; undefined for anything else (a miss, stale, a cached NotFound, an entry due for its L2 re-check), which
   * only `get` may answer.
   */
  peek(args: A): CacheResult<T> | undefined {
    const local = this.core.l1?.get(this.keyOf(args))
    if (local === undefined || local.negative) return undefined
    const now = this.core.now()
    if (!this.trusted(local, now)) return undefined
    return this.counted(local, 'HIT', 'hit_l1', now)
  }

  /** Fresh, and (with Redis) stored in this replica's current epoch and not yet due for its L2 re-check. */
  private trusted(local: LocalEntry, now: number): boolean {
    return now < local.freshUntil && (this.core.l2 === null || (local.epoch === this.core.epoch && now < local.checkAt))
  }

  async invalidate(args: A): Promise<void> {
    await this.core.invalidateKeys([this.keyOf(args)])
  }

  /** Stored before an invalidation of its key or tags that this replica has seen (its L2 purge may still be on the way). */
  private invalidated(key: string, entry: Entry): boolean {
    return this.core.invalidatedSince(key, entry.tags, entry.storedAt)
  }

  /** An L2 entry that may be answered and kept as fresh. */
  private freshAnswer(key: string, entry: Entry, now: number): boolean {
    return now < entry.freshUntil && !this.invalidated(key, entry)
  }

  private answer(entry: Entry, state: CacheState, outcome: LookupOutcome, now: number): Promise<CacheResult<T>> {
    if (entry.negative) {
      this.outcomes.negative_hit.inc()
      return Promise.reject(new CachedNotFoundError())
    }
    return Promise.resolve(this.counted(entry, state, outcome, now))
  }

  /** The result of a positive entry, counted under `outcome`. */
  private counted(entry: Entry, state: CacheState, outcome: LookupOutcome, now: number): CachedResult<T> {
    this.outcomes[outcome].inc()
    const memo = this.shareValue ? (entry as Partial<LocalEntry>).memo : undefined
    return new CachedResult<T>(entry.json, state, Math.max(0, now - entry.storedAt), memo)
  }

  private async lookup(
    key: string,
    args: A,
    local: LocalEntry | undefined,
    now: number,
    options: CallOptions | undefined,
  ): Promise<CacheResult<T>> {
    let entry: Entry | undefined = local
    let fromL2 = false
    // A copy only good as a last resort (stale-if-error) when L2 no longer has it.
    let fallback: Entry | undefined
    // When Redis just failed this lookup, the fill does not try it again (no second command timeout per request).
    let redisFailed = false
    const l2 = this.core.l2
    if (l2 !== null) {
      const remote = await l2.get(key)
      redisFailed = remote === UNAVAILABLE
      if (remote !== UNAVAILABLE) {
        if (remote === undefined) {
          // Gone from L2 (expired or invalidated while we may have missed the message): not trusted as fresh.
          fallback = local
          entry = undefined
        } else if (this.invalidated(key, remote)) {
          // Stored before an invalidation this replica has seen, whose L2 purge has not landed yet: putting it back
          // in L1 would serve the old value as fresh until the next re-check. Only a stale-if-error fallback.
          fallback = remote
          entry = undefined
        } else if (local === undefined || remote.storedAt > local.storedAt) {
          entry = this.storeLocal(key, remote, now) ?? remote
          fromL2 = true
        } else {
          // Same entry (or ours is newer): trust our copy again for a while, keeping its shared value.
          entry = this.storeLocal(key, local, now, local.memo) ?? local
        }
      }
    }

    if (entry !== undefined && now < entry.freshUntil) {
      return this.answer(entry, 'HIT', fromL2 ? 'hit_l2' : 'hit_l1', now)
    }
    if (entry !== undefined && !entry.negative && now < entry.revalidateUntil) {
      this.refreshInBackground(key, args)
      return this.answer(entry, 'STALE', 'stale_revalidate', now)
    }

    const stale = [entry, fallback].find((candidate) => candidate !== undefined && !candidate.negative)
    try {
      const filled = await this.fill(key, args, now, options, redisFailed)
      return await this.answer(filled, 'MISS', 'miss', this.core.now())
    } catch (error) {
      // Stale-if-error: the origin failed, timed out or the queue refused. A NotFound is an answer, not a failure.
      const at = this.core.now()
      if (!isNotFound(error) && stale !== undefined && at < stale.staleUntil) {
        return this.answer(stale, 'STALE', 'stale_error', at)
      }
      throw error
    }
  }

  /** Join the fetch in flight for this key in this process, or lead one; wait no longer than the caller's deadline. */
  private fill(
    key: string,
    args: A,
    now: number,
    options: CallOptions | undefined,
    skipLease: boolean,
  ): Promise<Entry> {
    const deadlineAt = now + (options?.deadlineMs ?? this.core.settings.defaultDeadlineMs)
    const joined = this.core.inflight.get(key)
    let flight: Promise<Entry>
    if (joined === undefined) {
      flight = this.lead(key, args, 'interactive', deadlineAt, skipLease)
      this.register(key, flight)
    } else {
      this.core.metrics.dedupeJoins.labels({ cache: this.name }).inc()
      // A background refresh that found another replica refreshing ends without a value: then lead (or wait) here.
      // A fetch the budget refused before sending it was refused for its leader (an optional read books in a lane of
      // its own, src/recharge/queue/gcra.ts; an anonymous client spends its own allowance): this caller has its own
      // claim on the budget, so it asks for itself, in its own context, rather than answer with the leader's refusal.
      flight = joined.catch((error: unknown) => {
        if (error instanceof RefreshNotNeeded) return this.lead(key, args, 'interactive', deadlineAt)
        if (isBudgetRefusal(error)) return this.joinOrLead(key, args, joined, deadlineAt, skipLease)
        throw error
      })
    }
    return raceDeadline(flight, deadlineAt - now, options?.signal)
  }

  /** After `failed` ended: join the fetch that took its place, or lead a new one. */
  private joinOrLead(
    key: string,
    args: A,
    failed: Promise<Entry>,
    deadlineAt: number,
    skipLease: boolean,
  ): Promise<Entry> {
    const current = this.core.inflight.get(key)
    if (current !== undefined && current !== failed) return current
    const flight = this.lead(key, args, 'interactive', deadlineAt, skipLease)
    this.register(key, flight)
    return flight
  }

  private register(key: string, flight: Promise<Entry>): void {
    this.core.inflight.set(key, flight)
    const forget = () => {
      if (this.core.inflight.get(key) === flight) this.core.inflight.delete(key)
    }
    flight.then(forget, forget)
  }

  private refreshInBackground(key: string, args: A): void {
    if (this.core.inflight.has(key)) return
    const flight = this.lead(key, args, 'background', this.core.now() + this.core.settings.backgroundDeadlineMs)
    this.register(key, flight)
    const refreshes = this.core.metrics.refreshes
    const work = flight.then(
      () => refreshes.labels({ cache: this.name, outcome: 'ok' }).inc(),
      (error: unknown) => {
        const outcome = error instanceof RefreshNotNeeded ? 'skipped' : 'failed'
        refreshes.labels({ cache: this.name, outcome }).inc()
        // The entry is kept: a failed refresh never deletes what we have.
        if (outcome === 'failed')
          this.core.log.debug({ cache: this.name, err: errorSummary(error) }, 'cache refresh failed')
      },
    )
    this.core.track(work)
  }

  /**
   * Fetch from the origin once across replicas. With Redis: take the lease (SET NX PX) or wait for its holder's
   * result; without Redis (or Redis failing) lead locally, deduplicated in-process only.
   */
  private async lead(key: string, args: A, lane: Lane, deadlineAt: number, skipLease = false): Promise<Entry> {
    const startedAt = this.core.now()
    const l2 = this.core.l2
    const leaseKey = this.core.keys.lease(key)
    const owner = this.core.nextLeaseOwner()
    let leased = false
    if (l2 !== null && !skipLease) {
      for (;;) {
        const ttl = Math.max(1, deadlineAt - this.core.now()) + this.core.settings.leaseMarginMs
        const lease = await l2.tryLease(leaseKey, owner, ttl)
        if (lease === 'acquired') {
          // Double-check under the lease: a holder that just finished may have stored the value between our miss
          // and our lease (its release came after its write).
          const current = await l2.get(key)
          if (current !== UNAVAILABLE && current !== undefined && this.freshAnswer(key, current, this.core.now())) {
            this.core.track(l2.releaseLease(leaseKey, owner))
            this.storeLocal(key, current, this.core.now())
            return current
          }
          leased = true
          break
        }
        if (lease === UNAVAILABLE) break
        if (lane === 'background') throw new RefreshNotNeeded()
        const outcome = await this.awaitHolder(key, leaseKey, deadlineAt)
        this.core.metrics.leaseWaits.labels({ cache: this.name, outcome: outcome.kind }).inc()
        if (outcome.kind === 'filled') {
          this.storeLocal(key, outcome.entry, this.core.now())
          return outcome.entry
        }
        if (outcome.kind === 'notfound') throw new CachedNotFoundError()
        if (outcome.kind === 'failed') throw new CacheOriginFailedError()
        if (outcome.kind === 'deadline') throw new CacheDeadlineError()
        if (outcome.kind === 'unavailable') break
        // 'released': the holder gave up without an outcome (or its lease expired): try to take over.
      }
    }
    return this.fetchAndStore(key, args, lane, deadlineAt, startedAt, leased ? { leaseKey, owner } : undefined)
  }

  private async awaitHolder(key: string, leaseKey: string, deadlineAt: number): Promise<HolderOutcome> {
    const l2 = this.core.l2!
    for (;;) {
      const remaining = deadlineAt - this.core.now()
      if (remaining <= 0) return { kind: 'deadline' }
      if (this.core.closing.aborted) return { kind: 'unavailable' }
      await sleep(Math.min(this.core.settings.leasePollMs, remaining), undefined, { ref: false })
      const probe = await l2.probe(key, leaseKey)
      if (probe === UNAVAILABLE) return { kind: 'unavailable' }
      const now = this.core.now()
      if (probe.entry !== undefined && this.freshAnswer(key, probe.entry, now))
        return { kind: 'filled', entry: probe.entry }
      if (probe.lease === LEASE_MARKER_NOT_FOUND) return { kind: 'notfound' }
      if (probe.lease === LEASE_MARKER_FAILED) return { kind: 'failed' }
      if (probe.lease === null) return { kind: 'released' }
    }
  }

  private async fetchAndStore(
    key: string,
    args: A,
    lane: Lane,
    deadlineAt: number,
    startedAt: number,
    lease: { leaseKey: string; owner: string } | undefined,
  ): Promise<Entry> {
    const l2 = this.core.l2
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(new CacheDeadlineError()), Math.max(1, deadlineAt - startedAt))
    timer.unref()
    const onClose = () => controller.abort(this.core.closing.reason)
    this.core.closing.addEventListener('abort', onClose, { once: true })
    let value: T
    try {
      value = await this.definition.fetch(args, {
        lane,
        deadlineMs: Math.max(1, deadlineAt - startedAt),
        signal: controller.signal,
      })
    } catch (error) {
      if (isNotFound(error) && this.negativeTtlMs > 0) {
        const now = this.core.now()
        const until = now + this.negativeTtlMs
        const tags = this.tagsOf(args, undefined)
        const entry: Entry = {
          json: '',
          negative: true,
          storedAt: now,
          freshUntil: until,
          revalidateUntil: until,
          staleUntil: until,
          tags,
        }
        this.store(key, entry, startedAt, lease)
      } else if (this.core.closing.aborted || isRequestRefused(error)) {
        // Shutting down is not an origin failure, nor is a request Recharge refused (a 4xx: the next caller gets the
        // same answer by asking) or one our budget refused before sending it (the next caller has its own): release
        // without a failure marker, which followers would otherwise turn into 502 UPSTREAM_UNAVAILABLE.
        if (lease && l2) void l2.releaseLease(lease.leaseKey, lease.owner)
      } else {
        if (!isNotFound(error)) this.core.metrics.originErrors.labels({ cache: this.name }).inc()
        if (lease && l2) {
          const marker = isNotFound(error) ? LEASE_MARKER_NOT_FOUND : LEASE_MARKER_FAILED
          const ttlMs = this.core.settings.outcomeMarkerMs
          void l2.releaseLease(lease.leaseKey, lease.owner, { value: marker, ttlMs })
        }
      }
      throw error
    } finally {
      clearTimeout(timer)
      this.core.closing.removeEventListener('abort', onClose)
    }

    const now = this.core.now()
    const json = JSON.stringify(value)
    if (typeof json !== 'string') {
      if (lease && l2) void l2.releaseLease(lease.leaseKey, lease.owner)
      throw new TypeError(`cache ${this.name}: the fetched value is not JSON data`)
    }
    const freshUntil = now + this.definition.ttlMs
    const entry: Entry = {
      json,
      negative: false,
      storedAt: now,
      freshUntil,
      revalidateUntil: freshUntil + this.swrMs,
      staleUntil: freshUntil + Math.max(this.swrMs, this.sieMs),
      tags: this.tagsOf(args, value),
    }
    this.store(key, entry, startedAt, lease)
    return entry
  }

  /** L1 now, L2 in the background (the caller never waits on a Redis write); then the lease goes. */
  private store(key: string, entry: Entry, startedAt: number, lease: { leaseKey: string; owner: string } | undefined) {
    const l2 = this.core.l2
    const release = () => (lease && l2 ? l2.releaseLease(lease.leaseKey, lease.owner) : Promise.resolve())
    let reason: string | undefined
    // Bytes, not characters: non-ASCII text takes more (measured on stores only, never on hits).
    if (Buffer.byteLength(entry.json) > this.maxEntryBytes) reason = 'too_large'
    else if (this.core.invalidatedSince(key, entry.tags, startedAt)) reason = 'invalidated'
    if (reason !== undefined) {
      this.core.metrics.notStored.labels({ cache: this.name, reason }).inc()
      this.core.track(release())
      return
    }
    const now = this.core.now()
    this.storeLocal(key, entry, now)
    if (l2 !== null) {
      const write = async () => {
        const written = await l2.set(key, entry, now)
        // An invalidation that raced the write (its message arrived meanwhile) wins: drop what we just wrote.
        if (written && this.core.invalidatedSince(key, entry.tags, startedAt)) await l2.delete([key]).catch(() => {})
        await release()
      }
      this.core.track(write())
    }
  }

  private storeLocal(key: string, entry: Entry, now: number, memo?: ValueMemo): LocalEntry | undefined {
    const l1 = this.core.l1
    if (l1 === null) return undefined
    const local: LocalEntry = {
      json: entry.json,
      negative: entry.negative,
      storedAt: entry.storedAt,
      freshUntil: entry.freshUntil,
      revalidateUntil: entry.revalidateUntil,
      staleUntil: entry.staleUntil,
      tags: entry.tags,
      epoch: this.core.epoch,
      checkAt: now + this.core.settings.l1CheckMs,
      memo: memo ?? { parsed: false, value: undefined },
    }
    l1.set(key, local, now)
    this.core.l1Stored()
    return local
  }

  private tagsOf(args: A, value: T | undefined): readonly string[] {
    if (!this.definition.tags) return []
    try {
      return [...new Set(this.definition.tags(args, value))]
    } catch (error) {
      this.core.log.warn({ cache: this.name, err: errorSummary(error) }, 'cache tags function threw; entry untagged')
      return []
    }
  }
}

type HolderOutcome =
  | { kind: 'filled'; entry: Entry }
  | { kind: 'notfound' }
  | { kind: 'failed' }
  | { kind: 'released' }
  | { kind: 'deadline' }
  | { kind: 'unavailable' }

/** Wait for `promise` at most `ms` (and not past `signal`); the shared work itself goes on for other waiters. */
function raceDeadline<T>(promise: Promise<T>, ms: number, signal: AbortSignal | undefined): Promise<T> {
  if (signal?.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => finish(() => reject(new CacheDeadlineError())), Math.max(0, ms))
    const onAbort = () => finish(() => reject(signal?.reason))
    signal?.addEventListener('abort', onAbort, { once: true })
    function finish(settle: () => void) {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      settle()
    }
    promise.then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(error)),
    )
  })
}

function errorSummary(error: unknown): { name: string; message: string } {
  return error instanceof Error ? { name: error.name, message: error.message } : { name: 'unknown', message: '' }
}

/**
 * True for an error that says the request was refused rather than that the origin failed: an upstream 4xx other
 * than 404 (negatively cached), 408 and 429, or a call refused by the budget before it was sent.
 */
/** Refused by our own budget before anything was sent (the Recharge queue's admission): duck-typed, as below. */
function isBudgetRefusal(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { reason?: unknown }).reason === 'admission'
}

function isRequestRefused(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { status } = error as { status?: unknown }
  if (isBudgetRefusal(error)) return true
  return typeof status === 'number' && status >= 400 && status < 500 && ![404, 408, 429].includes(status)
}
