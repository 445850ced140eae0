import type { RedisClient } from '../infra/redis.ts'
import type { RecordOutcome } from './outcome.ts'
import {
  countsFrom,
  FINISHED_TTL_S,
  type ImportRunStore,
  increments,
  RECORD_CHUNK,
  type RunCounts,
  type RunMeta,
  type RunState,
} from './run-store.ts'

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

/** Runs in Redis: keys `<prefix>:{import:<id>}:<part>` (meta, records, outcomes, counts, failures, lease). */
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
