import { SignJWT, UnsecuredJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import {
  CustomerTokenError,
  MAX_TOKEN_LIFETIME_S,
  mintCustomerToken,
  parseSubject,
  secretKey,
  verifyCustomerToken,
} from '../../src/identity/customer-token.ts'

const key = secretKey('unit-secret-0123456789abcdef0123456789')
const nowS = () => Math.floor(Date.now() / 1000)

async function sign(claims: Record<string, unknown>, signingKey = key, alg = 'HS256'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg }).sign(signingKey)
}

async function reason(token: string): Promise<string> {
  try {
    await verifyCustomerToken(token, key)
  } catch (error) {
    if (error instanceof CustomerTokenError) return error.reason
    throw error
  }
  return 'accepted'
}

describe('customer tokens', () => {
  it('mints a token that verifies to the same subject, at most an hour long', async () => {
    const minted = await mintCustomerToken({ kind: 'email', email: 'alice@example.com' }, key, { lifetimeS: 7200 })
    const verified = await verifyCustomerToken(minted.token, key)
    expect(verified.subject).toEqual({ kind: 'email', email: 'alice@example.com' })
    expect(minted.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(MAX_TOKEN_LIFETIME_S * 1000)
  })

  it('reads a sub without @ as an external customer id', async () => {
    const token = await sign({ sub: 'shop-42', iat: nowS(), exp: nowS() + 60 })
    expect((await verifyCustomerToken(token, key)).subject).toEqual({
      kind: 'external_id',
      externalCustomerId: 'shop-42',
    })
  })

  it('refuses expired tokens, beyond the clock tolerance', async () => {
    expect(await reason(await sign({ sub: 'a@b.c', iat: nowS() - 600, exp: nowS() - 120 }))).toBe('expired')
    // 10 s past exp is inside the 30 s tolerance.
    expect(await reason(await sign({ sub: 'a@b.c', iat: nowS() - 600, exp: nowS() - 10 }))).toBe('accepted')
  })

  it('refuses a token signed with another secret', async () => {
    const other = secretKey('another-secret-0123456789abcdef01234567')
    expect(await reason(await sign({ sub: 'a@b.c', exp: nowS() + 60 }, other))).toBe('signature')
  })

  it('refuses a forged payload under a genuine signature', async () => {
    const genuine = await sign({ sub: 'alice@example.com', exp: nowS() + 60 })
    const [header, , signature] = genuine.split('.')
    const payload = Buffer.from(JSON.stringify({ sub: 'bob@example.com', exp: nowS() + 60 })).toString('base64url')
    expect(await reason(`${header}.${payload}.${signature}`)).toBe('signature')
  })

  it('refuses alg=none and other algorithms', async () => {
    const unsecured = new UnsecuredJWT({ sub: 'a@b.c' }).setExpirationTime(nowS() + 60).encode()
    expect(await reason(unsecured)).toBe('signature')
    expect(await reason(await sign({ sub: 'a@b.c', exp: nowS() + 60 }, key, 'HS512'))).toBe('signature')
  })

  it('requires exp and refuses lifetimes over an hour', async () => {
    expect(await reason(await sign({ sub: 'a@b.c' }))).toBe('claims')
    expect(await reason(await sign({ sub: 'a@b.c', iat: nowS(), exp: nowS() + 2 * 3600 }))).toBe('lifetime')
    expect(await reason(await sign({ sub: 'a@b.c', exp: nowS() + 2 * 3600 }))).toBe('lifetime')
    expect(await reason(await sign({ sub: 'a@b.c', iat: nowS(), exp: nowS() + 3600 }))).toBe('accepted')
  })

  it('refuses tokens issued in the future and tokens without a usable subject', async () => {
    expect(await reason(await sign({ sub: 'a@b.c', iat: nowS() + 600, exp: nowS() + 900 }))).toBe('claims')
    expect(await reason(await sign({ exp: nowS() + 60 }))).toBe('claims')
    expect(await reason(await sign({ sub: '   ', exp: nowS() + 60 }))).toBe('subject')
    expect(await reason(await sign({ sub: 'a@@b', exp: nowS() + 60 }))).toBe('subject')
  })

  it('refuses garbage', async () => {
    expect(await reason('not-a-jwt')).toBe('malformed')
    expect(await reason('a.b.c')).toBe('malformed')
  })

  it('normalises emails', () => {
    expect(parseSubject(' Alice@Example.COM ')).toEqual({ kind: 'email', email: 'alice@example.com' })
  })
})
