import { describe, expect, it } from 'vitest'
import { CHECKOUT_SECRET_TTL_MS, createCheckoutBinder } from '../../src/checkout/binding.ts'

const root = 'test-customer-token-secret-0123456789abcdef'

describe('checkout binding secret', () => {
  const binder = createCheckoutBinder(root)

  it('verifies a secret only for the token it was minted for', () => {
    const { secret } = binder.mint('tok_a')
    expect(binder.verify('tok_a', secret)).toBe(true)
    expect(binder.verify('tok_b', secret)).toBe(false)
  })

  it('refuses a missing, malformed or tampered secret', () => {
    const { secret } = binder.mint('tok_a')
    const [version, expiry, mac] = secret.split('.')
    expect(binder.verify('tok_a', undefined)).toBe(false)
    expect(binder.verify('tok_a', '')).toBe(false)
    expect(binder.verify('tok_a', 'tok_a')).toBe(false)
    expect(binder.verify('tok_a', `${version}.${Number(expiry) + 3600}.${mac}`)).toBe(false)
    expect(binder.verify('tok_a', `${version}.${expiry}.${mac!.slice(0, -2)}AA`)).toBe(false)
    expect(binder.verify('tok_a', `${secret}.extra`)).toBe(false)
    expect(binder.verify('tok_a', `cs2.${expiry}.${mac}`)).toBe(false)
  })

  it('expires after its TTL', () => {
    const now = Date.parse('2026-11-21T12:00:00Z')
    const { secret, expiresAt } = binder.mint('tok_a', now)
    expect(expiresAt.getTime()).toBeGreaterThanOrEqual(now + CHECKOUT_SECRET_TTL_MS)
    expect(binder.verify('tok_a', secret, now + CHECKOUT_SECRET_TTL_MS - 1_000)).toBe(true)
    expect(binder.verify('tok_a', secret, expiresAt.getTime() + 1)).toBe(false)
  })

  it('is keyed by the server secret: another deployment cannot mint a valid one', () => {
    const other = createCheckoutBinder('another-root-secret-0123456789abcdefgh')
    expect(binder.verify('tok_a', other.mint('tok_a').secret)).toBe(false)
  })

  it('needs no storage: a second binder with the same key (another replica) accepts it', () => {
    const replica = createCheckoutBinder(root)
    expect(replica.verify('tok_a', binder.mint('tok_a').secret)).toBe(true)
  })
})
