import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'
import { AppError } from '../errors.ts'

/**
 * Our list cursors are opaque to clients and wrap Recharge's (which are opaque to us): base64url of
 * `{"v": 2, "u": <upstream cursor>, "m": <MAC>}`. The MAC (HMAC-SHA256, truncated to 128 bits, key derived from
 * CUSTOMER_TOKEN_SECRET with its own label) proves we issued the cursor, so a made-up one is refused with 400 before
 * it costs an upstream call: Recharge would answer it 422 after spending a call of the store's bucket. Every replica
 * derives the same key; rotating the secret invalidates cursors clients hold (they restart from the first page).
 */
export interface CursorCodec {
  encode(upstream: string | null): string | null
  /** The upstream cursor, or VALIDATION_FAILED (400) for anything we did not issue. */
  decode(cursor: string): string
}

const LABEL = 'recharge-bridge catalog cursor v2'

export function createCursorCodec(rootSecret?: string): CursorCodec {
  const key = rootSecret ? Buffer.from(hkdfSync('sha256', rootSecret, 'recharge-bridge', LABEL, 32)) : randomBytes(32)
  const mac = (upstream: string) => createHmac('sha256', key).update(upstream).digest().subarray(0, 16)

  return {
    encode(upstream) {
      if (!upstream) return null
      return Buffer.from(JSON.stringify({ v: 2, u: upstream, m: mac(upstream).toString('base64url') })).toString(
        'base64url',
      )
    },
    decode(cursor) {
      try {
        if (!/^[A-Za-z0-9_-]{1,2048}$/.test(cursor)) throw new Error('charset')
        const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
        if (!parsed || typeof parsed !== 'object') throw new Error('shape')
        const { u, m } = parsed as { u?: unknown; m?: unknown }
        if (typeof u !== 'string' || !u || typeof m !== 'string') throw new Error('shape')
        const given = Buffer.from(m, 'base64url')
        const expected = mac(u)
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new Error('mac')
        return u
      } catch {
        throw new AppError('VALIDATION_FAILED', {
          detail: 'The cursor is not one this API issued',
          errors: [{ field: 'query.cursor', message: 'invalid cursor' }],
        })
      }
    },
  }
}

/** A codec with a per-process key (one replica, tests): cursors do not survive a restart. */
const processCodec = createCursorCodec()

export function encodeCursor(upstream: string | null): string | null {
  return processCodec.encode(upstream)
}

export function decodeCursor(cursor: string): string {
  return processCodec.decode(cursor)
}
