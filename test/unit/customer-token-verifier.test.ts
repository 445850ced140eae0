import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { CustomerTokenError, createCustomerTokenVerifier, secretKey } from '../../src/identity/customer-token.ts'

const key = secretKey('test-customer-token-secret-0123456789abcdef')

function sign(expiresAtS: number, secret = key): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('alice@example.com')
    .setIssuedAt(expiresAtS - 600)
    .setExpirationTime(expiresAtS)
    .sign(secret)
}

describe('remembered customer token verification', () => {
  it('answers a token it verified until the token expires, then refuses it', async () => {
    let now = 1_800_000_000_000
    const verify = createCustomerTokenVerifier(key, { now: () => now })
    const token = await sign(now / 1000 + 300)
    expect((await verify(token)).subject).toEqual({ kind: 'email', email: 'alice@example.com' })
    now += 200_000
    expect((await verify(token)).subject).toEqual({ kind: 'email', email: 'alice@example.com' })
    now += 200_000 // 100 s past expiry: beyond the clock tolerance
    await expect(verify(token)).rejects.toMatchObject({ reason: 'expired' })
  })

  it('never remembers a refusal, and a token signed with another secret never matches', async () => {
    const now = 1_800_000_000_000
    const verify = createCustomerTokenVerifier(key, { now: () => now })
    const forged = await sign(now / 1000 + 300, secretKey('another-secret-0123456789abcdef-xyz'))
    await expect(verify(forged)).rejects.toBeInstanceOf(CustomerTokenError)
    await expect(verify(forged)).rejects.toMatchObject({ reason: 'signature' })
    const genuine = await sign(now / 1000 + 300)
    await expect(verify(genuine)).resolves.toBeDefined()
    // Same claims, signature changed by one character: not the remembered token.
    const tampered = `${genuine.slice(0, -2)}${genuine.at(-2) === 'A' ? 'B' : 'A'}${genuine.at(-1)}`
    await expect(verify(tampered)).rejects.toMatchObject({ reason: 'signature' })
  })

  it('knows a token synchronously only after verifying it, and only until it expires', async () => {
    let now = 1_800_000_000_000
    const verify = createCustomerTokenVerifier(key, { now: () => now })
    const token = await sign(now / 1000 + 300)
    expect(verify.known(token)).toBeUndefined()
    await verify(token)
    expect(verify.known(token)?.subject).toEqual({ kind: 'email', email: 'alice@example.com' })
    const tampered = `${token.slice(0, -2)}${token.at(-2) === 'A' ? 'B' : 'A'}${token.at(-1)}`
    expect(verify.known(tampered)).toBeUndefined()
    now += 301_000
    expect(verify.known(token)).toBeUndefined()
  })
})
