import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto'

/**
 * Binding a checkout to the client that created it.
 *
 * A checkout token is not a secret: it travels in Recharge's hosted-checkout URL, in browser history, in referrers
 * and in webhook payloads. Whoever holds only the token must not be able to read the buyer's address, change the
 * cart's shipping or charge it. So creation also returns a `checkout_secret`, and every later call for that token
 * must carry it in `X-Checkout-Secret`; a missing, wrong or expired secret answers 404, exactly like an unknown token.
 *
 * The secret is a MAC, not a stored random value: `cs1.<expiry>.<HMAC-SHA256(key, token + expiry)>`, with a key
 * derived (HKDF, own label) from CUSTOMER_TOKEN_SECRET. Verifying needs no storage, so it works the same on every
 * replica, keeps working while Redis is down, and cannot be lost by an eviction; the expiry inside the MAC gives the
 * TTL. Rotating CUSTOMER_TOKEN_SECRET invalidates open checkouts' secrets (they can be re-created).
 */

export const CHECKOUT_SECRET_TTL_MS = 24 * 60 * 60 * 1000
const VERSION = 'cs1'
const LABEL = 'recharge-bridge checkout binding v1'

export interface CheckoutBinder {
  /** A secret for `token`, valid until the returned expiry. */
  mint(token: string, now?: number): { secret: string; expiresAt: Date }
  /** True only for a well-formed, unexpired secret minted for exactly this token. Constant-time on the MAC. */
  verify(token: string, secret: string | undefined, now?: number): boolean
}

export function createCheckoutBinder(rootSecret: string, ttlMs = CHECKOUT_SECRET_TTL_MS): CheckoutBinder {
  const key = Buffer.from(hkdfSync('sha256', rootSecret, 'recharge-bridge', LABEL, 32))
  const mac = (token: string, expiry: string) =>
    createHmac('sha256', key).update(`${VERSION}\n${token}\n${expiry}`).digest()

  return {
    mint(token, now = Date.now()) {
      const expiresAt = new Date(Math.ceil((now + ttlMs) / 1000) * 1000)
      const expiry = String(expiresAt.getTime() / 1000)
      return { secret: `${VERSION}.${expiry}.${mac(token, expiry).toString('base64url')}`, expiresAt }
    },
    verify(token, secret, now = Date.now()) {
      if (!secret || secret.length > 200) return false
      const [version, expiry, signature, ...rest] = secret.split('.')
      if (version !== VERSION || !expiry || !signature || rest.length > 0 || !/^\d{1,12}$/.test(expiry)) return false
      const given = Buffer.from(signature, 'base64url')
      const expected = mac(token, expiry)
      const authentic = given.length === expected.length && timingSafeEqual(given, expected)
      return authentic && Number(expiry) * 1000 > now
    },
  }
}
