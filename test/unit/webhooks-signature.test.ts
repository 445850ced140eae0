import { describe, expect, it } from 'vitest'
import {
  parseSignatureHeader,
  SIGNATURE_TOLERANCE_SECONDS,
  signBridgeEvent,
  verifyRechargeSignature,
} from '../../src/webhooks/signature.ts'

const secret = 'sk_client_secret_example'
const body = Buffer.from('{"subscription":{"id":123,"customer_id":456,"updated_at":"2021-11-10T10:00:00"}}')
const t = 1_700_000_000

// Known answers computed outside Node with openssl:
//   printf '%s' "$SECRET" | cat - body.json | openssl dgst -sha256 -hex
//   printf '%s' "1700000000." | cat - body.json | openssl dgst -sha256 -hmac "$SECRET" -hex
const LEGACY_VECTOR = 'f4934b6174de610b26533646b301e0ea4b36336df9760f1dbad304c4504d405e'
const V1_VECTOR = '1057e504d1dd0ac0ba68d755f6d92030bf7a4803290f7018d8a4122df183b6fe'

/** An independent implementation on WebCrypto (a different API from node:crypto's createHmac/createHash). */
async function webCryptoV1(key: string, timestamp: number, raw: Uint8Array): Promise<string> {
  const cryptoKey = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(key),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  const prefix = new TextEncoder().encode(`${timestamp}.`)
  const message = new Uint8Array(prefix.length + raw.length)
  message.set(prefix)
  message.set(raw, prefix.length)
  return Buffer.from(await crypto.subtle.sign('HMAC', cryptoKey, message)).toString('hex')
}

async function webCryptoLegacy(key: string, raw: Uint8Array): Promise<string> {
  const keyBytes = new TextEncoder().encode(key)
  const message = new Uint8Array(keyBytes.length + raw.length)
  message.set(keyBytes)
  message.set(raw, keyBytes.length)
  return Buffer.from(await crypto.subtle.digest('SHA-256', message)).toString('hex')
}

describe('Recharge webhook signatures', () => {
  it('matches the openssl known answers for both schemes', async () => {
    expect(await webCryptoLegacy(secret, body)).toBe(LEGACY_VECTOR)
    expect(await webCryptoV1(secret, t, body)).toBe(V1_VECTOR)
    expect(verifyRechargeSignature(body, { legacy: LEGACY_VECTOR }, secret, t)).toEqual({
      ok: true,
      scheme: 'legacy',
      timestamp: null,
    })
    expect(verifyRechargeSignature(body, { signature: `t=${t},v1=${V1_VECTOR}` }, secret, t)).toEqual({
      ok: true,
      scheme: 'v1',
      timestamp: t,
    })
  })

  it('agrees with the independent implementation on arbitrary bodies and secrets', async () => {
    for (let i = 0; i < 50; i++) {
      const raw = crypto.getRandomValues(new Uint8Array(1 + ((i * 37) % 300)))
      const key = `secret-${i}-${'x'.repeat(i % 7)}`
      const now = t + i
      const buffer = Buffer.from(raw)
      expect(verifyRechargeSignature(buffer, { legacy: await webCryptoLegacy(key, raw) }, key, now).ok).toBe(true)
      expect(
        verifyRechargeSignature(buffer, { signature: `t=${now},v1=${await webCryptoV1(key, now, raw)}` }, key, now).ok,
      ).toBe(true)
    }
  })

  it('rejects a one-byte change of the body, under both schemes', () => {
    const changed = Buffer.from(body)
    changed[10] = (changed[10] as number) ^ 0x01
    expect(verifyRechargeSignature(changed, { legacy: LEGACY_VECTOR }, secret, t)).toEqual({
      ok: false,
      reason: 'mismatch',
    })
    expect(verifyRechargeSignature(changed, { signature: `t=${t},v1=${V1_VECTOR}` }, secret, t)).toEqual({
      ok: false,
      reason: 'mismatch',
    })
  })

  it('rejects re-serialised JSON (one space is enough)', () => {
    const reformatted = Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 1))
    expect(verifyRechargeSignature(reformatted, { legacy: LEGACY_VECTOR }, secret, t).ok).toBe(false)
  })

  it('rejects the wrong secret and an HMAC where the legacy hash is expected', async () => {
    expect(verifyRechargeSignature(body, { legacy: LEGACY_VECTOR }, 'other-secret', t).ok).toBe(false)
    // A common mistake: legacy header computed as HMAC(secret, body).
    const hmac = (await webCryptoV1(secret, t, body)).slice(0)
    expect(verifyRechargeSignature(body, { legacy: hmac }, secret, t).ok).toBe(false)
  })

  it('accepts any of several v1 values and ignores unknown keys (v2, spaces)', () => {
    const header = `t=${t}, v2=deadbeef, v1=${'0'.repeat(64)}, v1=${V1_VECTOR.toUpperCase()}`
    expect(verifyRechargeSignature(body, { signature: header }, secret, t)).toMatchObject({ ok: true, scheme: 'v1' })
  })

  it('rejects a timestamp outside 48 h in either direction, and accepts at the edge', () => {
    const header = `t=${t},v1=${V1_VECTOR}`
    expect(verifyRechargeSignature(body, { signature: header }, secret, t + SIGNATURE_TOLERANCE_SECONDS).ok).toBe(true)
    expect(verifyRechargeSignature(body, { signature: header }, secret, t + SIGNATURE_TOLERANCE_SECONDS + 1)).toEqual({
      ok: false,
      reason: 'expired',
    })
    expect(verifyRechargeSignature(body, { signature: header }, secret, t - SIGNATURE_TOLERANCE_SECONDS - 1).ok).toBe(
      false,
    )
  })

  it('judges by the timestamped header when present, never falling back to a matching legacy header', () => {
    const result = verifyRechargeSignature(
      body,
      { signature: `t=${t},v1=${'ab'.repeat(32)}`, legacy: LEGACY_VECTOR },
      secret,
      t,
    )
    expect(result).toEqual({ ok: false, reason: 'mismatch' })
  })

  it('rejects missing, malformed and non-hex signatures without throwing', () => {
    expect(verifyRechargeSignature(body, {}, secret, t)).toEqual({ ok: false, reason: 'missing' })
    expect(verifyRechargeSignature(body, { signature: 'v1=abc' }, secret, t)).toEqual({
      ok: false,
      reason: 'malformed',
    })
    expect(verifyRechargeSignature(body, { signature: `t=soon,v1=${V1_VECTOR}` }, secret, t).ok).toBe(false)
    expect(verifyRechargeSignature(body, { legacy: 'zz'.repeat(32) }, secret, t).ok).toBe(false)
    expect(verifyRechargeSignature(body, { legacy: LEGACY_VECTOR.slice(0, 63) }, secret, t).ok).toBe(false)
    expect(verifyRechargeSignature(body, { legacy: `${LEGACY_VECTOR}00` }, secret, t).ok).toBe(false)
  })

  it('parses the header by key', () => {
    expect(parseSignatureHeader(`v1=aa,t=5,v1=bb`)).toEqual({ timestamp: 5, v1: ['aa', 'bb'] })
    expect(parseSignatureHeader('t=5')).toBeNull()
  })

  it('signs forwarded events in the v1 shape a receiver can verify', async () => {
    const payload = '{"id":"evt_1"}'
    const header = signBridgeEvent('forward-secret-0123', payload, t)
    const expected = await webCryptoV1('forward-secret-0123', t, Buffer.from(payload))
    expect(header).toBe(`t=${t},v1=${expected}`)
  })
})
