import { ENVELOPE_VERSION } from './entry.ts'

/**
 * Redis key layout. An entry and its lease share one `{hash tag}` (the slot of `{name:key}`), so the commands that
 * touch both stay valid on Redis Cluster; a tag's index is its own key in its own slot.
 *
 *   rb:c:v1:{products.get:123}        entry envelope
 *   rb:c:v1:{products.get:123}:lease  single-flight lease (holder id, or an outcome marker)
 *   rb:c:v1:tag:{product:123}         sorted set of entry keys carrying that tag, scored by their expiry
 *   rb:c:v1:invalidate                pub/sub channel that tells every replica's L1 what to drop
 */
/** The cache's key prefix under a deployment's Redis prefix (REDIS_KEY_PREFIX); carries the envelope version. */
export function cacheKeyPrefix(redisKeyPrefix: string): string {
  return `${redisKeyPrefix}:c:v${ENVELOPE_VERSION}`
}

export const DEFAULT_KEY_PREFIX = cacheKeyPrefix('rb')

export class KeySpace {
  readonly prefix: string
  readonly channel: string

  constructor(prefix: string = DEFAULT_KEY_PREFIX) {
    this.prefix = prefix
    this.channel = `${prefix}:invalidate`
  }

  /** A name or key containing braces would move the hash tag; they are replaced (keys stay readable). */
  entry(name: string, key: string): string {
    return `${this.prefix}:{${safe(name)}:${safe(key)}}`
  }

  lease(entryKey: string): string {
    return `${entryKey}:lease`
  }

  tag(tag: string): string {
    return `${this.prefix}:tag:{${safe(tag)}}`
  }
}

function safe(part: string): string {
  return part.includes('{') || part.includes('}') ? part.replaceAll('{', '(').replaceAll('}', ')') : part
}
