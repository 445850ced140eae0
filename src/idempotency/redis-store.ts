import { randomUUID } from 'node:crypto'
import type { RedisClient } from '../infra/redis.ts'
import {
  type BeginResult,
  type IdempotencyStore,
  type StoredEntry,
  type StoredResponse,
  toBeginResult,
} from './types.ts'

/**
 * Redis store shared by every replica. `begin` is one `SET NX PX GET` (atomic: either we set the in-flight marker or
 * we read what holds the key). `complete` and `release` compare the owner inside a script, so a request whose marker
 * expired can never overwrite or delete the entry of a later request.
 */
const replaceIfOwner = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local ok, entry = pcall(cjson.decode, current)
if not ok or entry.state ~= 'in-flight' or entry.owner ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
`

export class RedisIdempotencyStore implements IdempotencyStore {
  private readonly redis: RedisClient

  constructor(redis: RedisClient) {
    this.redis = redis
  }

  async begin(key: string, fingerprint: string, inFlightTtlMs: number): Promise<BeginResult> {
    const owner = randomUUID()
    const marker: StoredEntry = { state: 'in-flight', fingerprint, owner }
    const previous = await this.redis.set(key, JSON.stringify(marker), {
      condition: 'NX',
      expiration: { type: 'PX', value: inFlightTtlMs },
      GET: true,
    })
    if (previous === null) return { kind: 'started', owner }
    return toBeginResult(parseEntry(String(previous)), fingerprint)
  }

  async complete(
    key: string,
    owner: string,
    fingerprint: string,
    response: StoredResponse,
    ttlMs: number,
  ): Promise<void> {
    const entry: StoredEntry = { state: 'done', fingerprint, response }
    await this.redis.eval(replaceIfOwner, { keys: [key], arguments: [owner, JSON.stringify(entry), String(ttlMs)] })
  }

  async release(key: string, owner: string): Promise<void> {
    await this.redis.eval(replaceIfOwner, { keys: [key], arguments: [owner, '', '0'] })
  }
}

function parseEntry(text: string): StoredEntry {
  const entry = JSON.parse(text) as StoredEntry
  if (entry.state !== 'in-flight' && entry.state !== 'done') throw new Error('unreadable idempotency entry')
  return entry
}
