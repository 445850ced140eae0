import type { RedisClient } from '../infra/redis.ts'
import type { RecordOutcome } from './outcome.ts'

/**
 * Where import runs live between requests, replicas and restarts: the records as received, one outcome per record
 * index, counters, and the lease of the replica running it. In Redis every key of a run shares the hash tag
 * `{import:<id>}` (Redis Cluster runs the outcome script on one slot); the list of unfinished runs is one more key.
 */

export type RunState = 'running' | 'paused' | 'done'

export interface RunMeta {
  id: string
  state: RunState
  total: number
  source: 'api' | 'cli'
  created_at: string
  finished_at: string | null
}

export interface RunCounts {
  done: number
  created: number
  found: number
  failed: number
  calls: number
  /** Records whose customer this import created, and the calls they took (the per-record cost of a new customer). */
  new_customer_records: number
  new_customer_calls: number
  existing_customer_records: number
  existing_customer_calls: number
  customers_created: number
  payment_methods_created: number
  addresses_created: number
  subscriptions_created: number
}

export interface ImportRunStore {
  create(meta: RunMeta, records: readonly string[]): Promise<void>
  meta(id: string): Promise<RunMeta | null>
  setState(id: string, state: RunState): Promise<void>
  /** Records [start, end) as received (JSON text). */
  records(id: string, start: number, end: number): Promise<string[]>
  /** Indexes that have an outcome. */
  doneIndexes(id: string): Promise<Set<number>>
  saveOutcome(id: string, outcome: RecordOutcome): Promise<void>
  counts(id: string): Promise<RunCounts>
  failures(id: string, limit: number): Promise<RecordOutcome[]>
  acquireLease(id: string, owner: string, ttlMs: number): Promise<boolean>
  renewLease(id: string, owner: string, ttlMs: number): Promise<boolean>
  releaseLease(id: string, owner: string): Promise<void>
  /** Runs not finished (running or paused). */
  unfinished(): Promise<string[]>
}

/** How long a finished run's report is kept. */
const FINISHED_TTL_S = 7 * 86_400
const RECORD_CHUNK = 500

const COUNT_FIELDS = [
  'done',
  'created',
  'found',
  'failed',
  'calls',
  'new_customer_records',
  'new_customer_calls',
  'existing_customer_records',
  'existing_customer_calls',
  'customers_created',
  'payment_methods_created',
  'addresses_created',
  'subscriptions_created',
] as const

function countsFrom(values: Record<string, string | number | undefined>): RunCounts {
  const counts = {} as RunCounts
  for (const field of COUNT_FIELDS) counts[field] = Number(values[field] ?? 0)
  return counts
}

/** The counter increments of one outcome. */
function increments(outcome: RecordOutcome): [string, number][] {
  const newCustomer = outcome.created.customer && outcome.status !== 'failed'
  return [
    ['calls', outcome.calls],
    [newCustomer ? 'new_customer_records' : 'existing_customer_records', outcome.status === 'failed' ? 0 : 1],
    [newCustomer ? 'new_customer_calls' : 'existing_customer_calls', outcome.status === 'failed' ? 0 : outcome.calls],
    ['customers_created', outcome.status !== 'failed' && outcome.created.customer ? 1 : 0],
    ['payment_methods_created', outcome.status !== 'failed' && outcome.created.payment_method ? 1 : 0],
    ['addresses_created', outcome.status !== 'failed' && outcome.created.address ? 1 : 0],
    ['subscriptions_created', outcome.status !== 'failed' ? outcome.created.subscriptions : 0],
  ]
}

/**
 * Records one outcome and moves the counters in one step: a record done again (its replica died before the run
 * moved on) replaces its status instead of counting twice. KEYS: outcomes, counts, failures. ARGV: index, status,
 * failure JSON (or ""), then field/increment pairs.
 */
const SAVE_OUTCOME = `
local previous = redis.call('hget', KEYS[1], ARGV[1])
if previous then redis.call('hincrby', KEYS[2], previous, -1) else redis.call('hincrby', KEYS[2], 'done', 1) end
redis.call('hset', KEYS[1], ARGV[1], ARGV[2])
redis.call('hincrby', KEYS[2], ARGV[2], 1)
if ARGV[3] ~= '' then redis.call('hset', KEYS[3], ARGV[1], ARGV[3]) else redis.call('hdel', KEYS[3], ARGV[1]) end
for i = 4, #ARGV, 2 do
  if tonumber(ARGV[i + 1]) ~= 0 then redis.call('hincrby', KEYS[2], ARGV[i], ARGV[i + 1]) end
end
return 1`
const RENEW_IF_OWNER = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`
const RELEASE_IF_OWNER = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`

export class RedisImportRunStore implements ImportRunStore {
  private readonly redis: RedisClient
  private readonly prefix: string

  constructor(redis: RedisClient, prefix: string) {
    this.redis = redis
    this.prefix = prefix
  }

  private key(id: string, part: string): string {
    return `${this.prefix}:{import:${id}}:${part}`
  }

  private get indexKey(): string {
    return `${this.prefix}:imports:unfinished`
  }

  async create(meta: RunMeta, records: readonly string[]): Promise<void> {
    for (let start = 0; start < records.length; start += RECORD_CHUNK) {
      await this.redis.rPush(this.key(meta.id, 'records'), records.slice(start, start + RECORD_CHUNK) as string[])
    }
    await this.redis.hSet(this.key(meta.id, 'meta'), {
      id: meta.id,
      state: meta.state,
      total: String(meta.total),
      source: meta.source,
      created_at: meta.created_at,
      finished_at: meta.finished_at ?? '',
    })
    await this.redis.sAdd(this.indexKey, meta.id)
  }

  async meta(id: string): Promise<RunMeta | null> {
    const fields = await this.redis.hGetAll(this.key(id, 'meta'))
    if (!fields.id) return null
    return {
      id: fields.id,
      state: fields.state as RunState,
      total: Number(fields.total),
      source: fields.source === 'cli' ? 'cli' : 'api',
      created_at: fields.created_at ?? '',
      finished_at: fields.finished_at || null,
    }
  }

  async setState(id: string, state: RunState): Promise<void> {
    const meta = this.key(id, 'meta')
    if (state !== 'done') {
      await this.redis.hSet(meta, 'state', state)
      return
    }
    await this.redis.hSet(meta, { state, finished_at: new Date().toISOString() })
    // The records hold processor tokens: gone as soon as the run is done; the report stays a week.
    await this.redis.del(this.key(id, 'records'))
    for (const part of ['meta', 'outcomes', 'counts', 'failures'])
      await this.redis.expire(this.key(id, part), FINISHED_TTL_S)
    await this.redis.sRem(this.indexKey, id)
  }

  records(id: string, start: number, end: number): Promise<string[]> {
    return this.redis.lRange(this.key(id, 'records'), start, end - 1)
  }

  async doneIndexes(id: string): Promise<Set<number>> {
    const keys = await this.redis.hKeys(this.key(id, 'outcomes'))
    return new Set(keys.map(Number))
  }

  async saveOutcome(id: string, outcome: RecordOutcome): Promise<void> {
    const pairs = increments(outcome).flatMap(([field, by]) => [field, String(by)])
    await this.redis.eval(SAVE_OUTCOME, {
      keys: [this.key(id, 'outcomes'), this.key(id, 'counts'), this.key(id, 'failures')],
      arguments: [
        String(outcome.index),
        outcome.status,
        outcome.status === 'failed' ? JSON.stringify(outcome) : '',
        ...pairs,
      ],
    })
  }

  async counts(id: string): Promise<RunCounts> {
    return countsFrom(await this.redis.hGetAll(this.key(id, 'counts')))
  }

  async failures(id: string, limit: number): Promise<RecordOutcome[]> {
    const all = await this.redis.hVals(this.key(id, 'failures'))
    return all
      .map((text) => JSON.parse(text) as RecordOutcome)
      .sort((a, b) => a.index - b.index)
      .slice(0, limit)
  }

  async acquireLease(id: string, owner: string, ttlMs: number): Promise<boolean> {
    const set = await this.redis.set(this.key(id, 'lease'), owner, {
      condition: 'NX',
      expiration: { type: 'PX', value: ttlMs },
    })
    if (set === 'OK') return true
    return (await this.redis.get(this.key(id, 'lease'))) === owner
  }

  async renewLease(id: string, owner: string, ttlMs: number): Promise<boolean> {
    const renewed = await this.redis.eval(RENEW_IF_OWNER, {
      keys: [this.key(id, 'lease')],
      arguments: [owner, String(ttlMs)],
    })
    return renewed === 1
  }

  async releaseLease(id: string, owner: string): Promise<void> {
    await this.redis.eval(RELEASE_IF_OWNER, { keys: [this.key(id, 'lease')], arguments: [owner] })
  }

  unfinished(): Promise<string[]> {
    return this.redis.sMembers(this.indexKey)
  }
}

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
