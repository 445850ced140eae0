import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Recharge webhook signatures, verified on the exact bytes received (re-serialised JSON never matches).
 *
 * - `X-Recharge-Webhook-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`: hex HMAC-SHA256 keyed with the API
 *   Client Secret over `"<t>.<raw body>"`; `t` must lie within 48 h of now. Several `v1` values may be present (secret
 *   rotation); one match is enough. Unknown keys (a future `v2`) are ignored.
 * - `X-Recharge-Hmac-Sha256: <hex>`: the legacy scheme. Despite its name it is not an HMAC but
 *   hex(sha256(client secret + raw body)), secret first. Used only when the timestamped header is absent.
 *
 * Every comparison is constant time over equal-length buffers.
 */

export const SIGNATURE_HEADER = 'x-recharge-webhook-signature'
export const LEGACY_SIGNATURE_HEADER = 'x-recharge-hmac-sha256'

/** Recharge retries for 48 h; a signed timestamp older (or further ahead) than this is a replay. */
export const SIGNATURE_TOLERANCE_SECONDS = 48 * 60 * 60

export type SignatureScheme = 'v1' | 'legacy'

export type VerifyResult =
  | { ok: true; scheme: SignatureScheme; timestamp: number | null }
  | { ok: false; reason: 'missing' | 'malformed' | 'expired' | 'mismatch' }

export interface SignatureHeaders {
  signature?: string | undefined
  legacy?: string | undefined
}

interface ParsedSignature {
  timestamp: number
  v1: string[]
}

/** Parse `t=…,v1=…` by key. Returns null when there is no integer `t` or no `v1`. */
export function parseSignatureHeader(header: string): ParsedSignature | null {
  let timestamp: number | null = null
  const v1: string[] = []
  for (const part of header.split(',')) {
    const separator = part.indexOf('=')
    if (separator <= 0) continue
    const key = part.slice(0, separator).trim()
    const value = part.slice(separator + 1).trim()
    if (key === 't') {
      if (!/^\d{1,12}$/.test(value)) return null
      timestamp = Number(value)
    } else if (key === 'v1' && value) {
      v1.push(value)
    }
  }
  if (timestamp === null || v1.length === 0) return null
  return { timestamp, v1 }
}

function hexEquals(expected: Buffer, candidateHex: string): boolean {
  // Non-hex or odd-length input decodes to a different length and fails the length check below.
  if (!/^[0-9a-f]+$/i.test(candidateHex)) return false
  const candidate = Buffer.from(candidateHex, 'hex')
  return candidate.length === expected.length && timingSafeEqual(candidate, expected)
}

export function v1Digest(secret: string, timestamp: number, rawBody: Buffer): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest()
}

export function legacyDigest(secret: string, rawBody: Buffer): Buffer {
  return createHash('sha256').update(secret).update(rawBody).digest()
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/** Pick the signature headers out of a Node/Fastify headers object (names are lower-case there). */
export function signatureHeaders(headers: Record<string, string | string[] | undefined>): SignatureHeaders {
  return { signature: first(headers[SIGNATURE_HEADER]), legacy: first(headers[LEGACY_SIGNATURE_HEADER]) }
}

/**
 * Verify a delivery. The timestamped header wins when present: a delivery whose v1 does not match is rejected even
 * if its legacy header would, so a forged timestamped header cannot fall back to the replayable scheme. (A sender that
 * strips the timestamped header entirely is judged by the legacy scheme, as Recharge still sends both.)
 */
export function verifyRechargeSignature(
  rawBody: Buffer,
  headers: SignatureHeaders,
  secret: string,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): VerifyResult {
  if (headers.signature !== undefined && headers.signature !== '') {
    const parsed = parseSignatureHeader(headers.signature)
    if (!parsed) return { ok: false, reason: 'malformed' }
    if (Math.abs(nowSeconds - parsed.timestamp) > SIGNATURE_TOLERANCE_SECONDS) return { ok: false, reason: 'expired' }
    const expected = v1Digest(secret, parsed.timestamp, rawBody)
    // Check every candidate (no early exit) so timing does not reveal which position matched.
    let matched = false
    for (const candidate of parsed.v1) matched = hexEquals(expected, candidate.toLowerCase()) || matched
    return matched ? { ok: true, scheme: 'v1', timestamp: parsed.timestamp } : { ok: false, reason: 'mismatch' }
  }
  if (headers.legacy !== undefined && headers.legacy !== '') {
    const matched = hexEquals(legacyDigest(secret, rawBody), headers.legacy.trim().toLowerCase())
    return matched ? { ok: true, scheme: 'legacy', timestamp: null } : { ok: false, reason: 'mismatch' }
  }
  return { ok: false, reason: 'missing' }
}

/**
 * Our own outbound signature for forwarded events, in the same shape Recharge uses: `t=<unix seconds>,v1=<hex
 * HMAC-SHA256(secret, "<t>.<body>")>`. Merchants verify it exactly like a Recharge v1 signature.
 */
export function signBridgeEvent(secret: string, body: string, nowSeconds: number = Math.floor(Date.now() / 1000)) {
  const digest = createHmac('sha256', secret).update(`${nowSeconds}.${body}`).digest('hex')
  return `t=${nowSeconds},v1=${digest}`
}
