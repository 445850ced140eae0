import { errors as joseErrors, jwtVerify, SignJWT } from 'jose'
import { LRUCache } from 'lru-cache'

/**
 * Customer tokens: short-lived HS256 JWTs the merchant backend signs (itself, or through
 * `POST /v1/admin/customer-tokens`) once it knows who the shopper is. `sub` is the shopper's email (contains '@')
 * or their `external_customer_id` on the store platform. Verification accepts HS256 only (so `alg: none` and
 * algorithm-confusion tokens fail), requires `exp`, and refuses tokens that live longer than MAX_TOKEN_LIFETIME_S.
 */

/** Recharge's own customer sessions last one hour; ours may not last longer. */
export const MAX_TOKEN_LIFETIME_S = 3600
/** Skew allowed between the minting server's clock and ours. */
export const CLOCK_TOLERANCE_S = 30
/** Lifetime of tokens we mint when the caller does not ask for less. */
export const DEFAULT_TOKEN_LIFETIME_S = 15 * 60

const ALGORITHMS = ['HS256']

export type CustomerSubject = { kind: 'email'; email: string } | { kind: 'external_id'; externalCustomerId: string }

export interface VerifiedCustomerToken {
  subject: CustomerSubject
  expiresAt: Date
}

/** Why a token was refused; the reason goes to metrics and debug logs, never the token itself. */
export type TokenRejection = 'malformed' | 'signature' | 'expired' | 'claims' | 'lifetime' | 'subject'

export class CustomerTokenError extends Error {
  readonly reason: TokenRejection
  constructor(reason: TokenRejection, message: string) {
    super(message)
    this.name = 'CustomerTokenError'
    this.reason = reason
  }
}

export function secretKey(secret: string): Uint8Array {
  return new TextEncoder().encode(secret)
}

const MAX_SUBJECT_LENGTH = 255

/** An email is recognised by its '@'; anything else is an external customer id. Both are trimmed; emails lower-cased. */
export function parseSubject(sub: unknown): CustomerSubject {
  if (typeof sub !== 'string') throw new CustomerTokenError('subject', 'sub must be a string')
  const value = sub.trim()
  if (value.length === 0 || value.length > MAX_SUBJECT_LENGTH || hasControlCharacter(value)) {
    throw new CustomerTokenError('subject', 'sub must be 1–255 printable characters')
  }
  if (value.includes('@')) {
    if (!/^[^@\s]+@[^@\s]+$/.test(value)) throw new CustomerTokenError('subject', 'sub is not an email address')
    return { kind: 'email', email: value.toLowerCase() }
  }
  return { kind: 'external_id', externalCustomerId: value }
}

function hasControlCharacter(value: string): boolean {
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index)
    if (code < 0x20 || code === 0x7f) return true
  }
  return false
}

export function subjectString(subject: CustomerSubject): string {
  return subject.kind === 'email' ? subject.email : subject.externalCustomerId
}

export async function verifyCustomerToken(
  token: string,
  key: Uint8Array,
  now: () => number = Date.now,
): Promise<VerifiedCustomerToken> {
  const nowS = Math.floor(now() / 1000)
  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload']
  try {
    ;({ payload } = await jwtVerify(token, key, {
      algorithms: ALGORITHMS,
      clockTolerance: CLOCK_TOLERANCE_S,
      requiredClaims: ['exp', 'sub'],
      currentDate: new Date(nowS * 1000),
    }))
  } catch (error) {
    throw rejection(error)
  }
  const exp = payload.exp as number
  if (typeof payload.iat === 'number' && payload.iat > nowS + CLOCK_TOLERANCE_S) {
    throw new CustomerTokenError('claims', 'claim "iat" is in the future')
  }
  // The lifetime counts from iat when present (never later than now), else from now.
  const issuedAt = Math.min(typeof payload.iat === 'number' ? payload.iat : nowS, nowS)
  if (exp - issuedAt > MAX_TOKEN_LIFETIME_S + CLOCK_TOLERANCE_S) {
    throw new CustomerTokenError('lifetime', `tokens may live at most ${MAX_TOKEN_LIFETIME_S} s`)
  }
  return { subject: parseSubject(payload.sub), expiresAt: new Date(exp * 1000) }
}

/** Longest token worth remembering; anything larger is verified every time. */
const MAX_REMEMBERED_TOKEN_LENGTH = 4096

export interface CustomerTokenVerifier {
  (token: string): Promise<VerifiedCustomerToken>
  /** The remembered verification of this exact token while it is unexpired, without a turn of the event loop. */
  known(token: string): VerifiedCustomerToken | undefined
}

/**
 * Verification remembered per token. A shopper's page sends the same token on every call for up to an hour, and the
 * HMAC check (WebCrypto, on the thread pool) is the largest cost of an uncached shopper request. Keyed by the exact
 * token, signature included, so nothing unverified can match; kept only until the token expires; bounded. Failures
 * are never remembered.
 */
export function createCustomerTokenVerifier(
  key: Uint8Array,
  options: { max?: number; now?: () => number } = {},
): CustomerTokenVerifier {
  const now = options.now ?? Date.now
  const verified = new LRUCache<string, VerifiedCustomerToken>({ max: options.max ?? 10_000 })
  const known = (token: string) => {
    const result = verified.get(token)
    return result && now() < result.expiresAt.getTime() ? result : undefined
  }
  const verify = async (token: string) => {
    const remembered = known(token)
    if (remembered) return remembered
    const result = await verifyCustomerToken(token, key, now)
    if (token.length <= MAX_REMEMBERED_TOKEN_LENGTH) verified.set(token, result)
    return result
  }
  return Object.assign(verify, { known })
}

function rejection(error: unknown): CustomerTokenError {
  if (error instanceof joseErrors.JWTExpired) return new CustomerTokenError('expired', 'the token has expired')
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return new CustomerTokenError('claims', `claim "${error.claim}" is invalid`)
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new CustomerTokenError('signature', 'the signature does not verify')
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) {
    return new CustomerTokenError('signature', 'only HS256 tokens are accepted')
  }
  return new CustomerTokenError('malformed', 'the token is not a well-formed JWT')
}

export interface MintedToken {
  token: string
  expiresAt: Date
}

export async function mintCustomerToken(
  subject: CustomerSubject,
  key: Uint8Array,
  options: { lifetimeS?: number; now?: () => number } = {},
): Promise<MintedToken> {
  const lifetime = Math.min(options.lifetimeS ?? DEFAULT_TOKEN_LIFETIME_S, MAX_TOKEN_LIFETIME_S)
  const issuedAt = Math.floor((options.now ?? Date.now)() / 1000)
  const expiresAt = issuedAt + lifetime
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(subjectString(subject))
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .setJti(crypto.randomUUID())
    .sign(key)
  return { token, expiresAt: new Date(expiresAt * 1000) }
}
