import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'

/**
 * Shopify's answers about bearer credentials, remembered briefly so a page that exchanges the same credential again
 * does not ask Shopify again. Keyed by a SHA-256 of the credential, never the credential itself (a heap dump or a
 * debugger shows no usable token). Only positive answers are kept, for `ttlMs`, which is set well below the lifetime
 * of the tokens it describes: a token revoked at Shopify stops working here within that time.
 */
export class HashedAnswerCache<T extends object> {
  private readonly entries: LRUCache<string, T>

  constructor(options: { ttlMs: number; max?: number }) {
    this.entries = new LRUCache<string, T>({ max: options.max ?? 10_000, ttl: options.ttlMs })
  }

  get(credential: string): T | undefined {
    return this.entries.get(keyOf(credential))
  }

  set(credential: string, answer: T): void {
    this.entries.set(keyOf(credential), answer)
  }
}

function keyOf(credential: string): string {
  return createHash('sha256').update(credential).digest('base64url')
}
