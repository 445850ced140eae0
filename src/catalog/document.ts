import { createHash } from 'node:crypto'
import type { CatalogDocument } from './types.ts'

/**
 * Browsers may reuse a catalog response for 60 s; shared caches (CDNs) may serve it stale for 5 more minutes while
 * they revalidate. Our own cache is invalidated by webhooks (tags `product:<id>`, `catalog`, `store`) within about a
 * second.
 */
export const CATALOG_CACHE_CONTROL = 'public, max-age=60, stale-while-revalidate=300'

/** Serialise once and hash once: the pair is what the cache keeps and what a route sends. */
export function toDocument(value: unknown): CatalogDocument {
  const body = JSON.stringify(value)
  return { body, etag: etagOf(body) }
}

/** Strong ETag of a body: the base64url SHA-256 of its bytes, quoted. */
export function etagOf(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url')}"`
}

/**
 * RFC 9110 If-None-Match: true when any listed tag matches (weak comparison, so `W/"x"` matches `"x"`), or `*`.
 */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false
  if (header.trim() === '*') return true
  const bare = etag.startsWith('W/') ? etag.slice(2) : etag
  for (const candidate of header.split(',')) {
    const tag = candidate.trim()
    if ((tag.startsWith('W/') ? tag.slice(2) : tag) === bare) return true
  }
  return false
}
