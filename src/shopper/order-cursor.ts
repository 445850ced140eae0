import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'
import { AppError } from '../errors.ts'

/**
 * Cursors of a shopper's order history: base64url of `{"v": 1, "u": <Recharge cursor>, "m": <MAC>}`, the MAC
 * (HMAC-SHA256 truncated to 128 bits, key derived from CUSTOMER_TOKEN_SECRET with its own label) taken over the
 * customer id AND the upstream cursor. A Recharge cursor carries the filters of the first request (here
 * `customer_id`), so a cursor is a capability to read that customer's orders: bound to the shopper it was issued to,
 * another shopper's cursor (or a made-up one) is refused with 400 before it costs an upstream call.
 */
export interface OrderCursorCodec {
  encode(customerId: string, upstream: string | null): string | null
  /** The upstream cursor, or VALIDATION_FAILED (400) for anything not issued to this customer. */
  decode(customerId: string, cursor: string): string
}

const LABEL = 'recharge-bridge order cursor v1'

export function createOrderCursorCodec(rootSecret?: string): OrderCursorCodec {
  const key = rootSecret ? Buffer.from(hkdfSync('sha256', rootSecret, 'recharge-bridge', LABEL, 32)) : randomBytes(32)
  const mac = (customerId: string, upstream: string) =>
    createHmac('sha256', key).update(`${customerId}\n${upstream}`).digest().subarray(0, 16)

  return {
    encode(customerId, upstream) {
      if (!upstream) return null
      const m = mac(customerId, upstream).toString('base64url')
      return Buffer.from(JSON.stringify({ v: 1, u: upstream, m })).toString('base64url')
    },
    decode(customerId, cursor) {
      try {
        if (!/^[A-Za-z0-9_-]{1,2048}$/.test(cursor)) throw new Error('charset')
        const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
        if (!parsed || typeof parsed !== 'object') throw new Error('shape')
        const { u, m } = parsed as { u?: unknown; m?: unknown }
        if (typeof u !== 'string' || !u || typeof m !== 'string') throw new Error('shape')
        const given = Buffer.from(m, 'base64url')
        const expected = mac(customerId, u)
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new Error('mac')
        return u
      } catch {
        throw new AppError('VALIDATION_FAILED', {
          detail: 'The cursor is not one this API issued to you',
          errors: [{ field: 'query.cursor', message: 'invalid cursor' }],
        })
      }
    },
  }
}
