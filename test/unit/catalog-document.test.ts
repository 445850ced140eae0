import { describe, expect, it } from 'vitest'
import { decodeCursor, encodeCursor } from '../../src/catalog/cursor.ts'
import { etagOf, matchesIfNoneMatch, toDocument } from '../../src/catalog/document.ts'

describe('catalog documents', () => {
  it('serialises once and hashes the exact bytes into a strong ETag', () => {
    const document = toDocument({ product: { id: 1 } })
    expect(document.body).toBe('{"product":{"id":1}}')
    expect(document.etag).toBe(etagOf(document.body))
    expect(document.etag).toMatch(/^"[A-Za-z0-9_-]{43}"$/)
    expect(toDocument({ product: { id: 2 } }).etag).not.toBe(document.etag)
  })

  it('matches If-None-Match lists, weak validators and *', () => {
    const etag = '"abc"'
    expect(matchesIfNoneMatch('"abc"', etag)).toBe(true)
    expect(matchesIfNoneMatch('"x", W/"abc"', etag)).toBe(true)
    expect(matchesIfNoneMatch('*', etag)).toBe(true)
    expect(matchesIfNoneMatch('"abcd"', etag)).toBe(false)
    expect(matchesIfNoneMatch(undefined, etag)).toBe(false)
  })
})

describe('catalog cursors', () => {
  it('wraps upstream cursors opaquely and round-trips them', () => {
    const upstream = 'eyJzdGFydGluZ19iZWZvcmVfaWQiOjcwNDgwODQ0fQ=='
    const cursor = encodeCursor(upstream)
    expect(cursor).not.toContain(upstream)
    expect(decodeCursor(cursor as string)).toBe(upstream)
    expect(encodeCursor(null)).toBeNull()
  })

  it('rejects cursors it did not issue with a 400 naming query.cursor', () => {
    for (const forged of ['not-ours', Buffer.from('{"x":1}').toString('base64url'), 'a b', '']) {
      expect(() => decodeCursor(forged)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED', status: 400 }))
    }
  })
})
