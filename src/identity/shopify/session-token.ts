import { errors as joseErrors, jwtVerify } from 'jose'
import { customerIdFromGid, type ShopifyCustomer } from './customer.ts'
import { ShopifyCredentialRefused } from './errors.ts'

/**
 * Customer-account UI extension session tokens: JWTs Shopify signs with the app's secret (HS256). Checked here without
 * calling Shopify: the signature (HS256 only, so `alg: none` and algorithm confusion fail), `exp` (required) and `nbf`
 * (when present), with a few seconds of skew, `aud` = the app's client id, `dest` = our shop (a bare domain or an https URL), and `sub` = a
 * customer GID (absent when nobody is signed in).
 */
const CLOCK_TOLERANCE_S = 10

export interface SessionTokenSettings {
  appSecret: string
  clientId: string
  shopDomain: string
  now?: () => number
}

export type SessionTokenVerifier = (token: string) => Promise<ShopifyCustomer>

export function createSessionTokenVerifier(settings: SessionTokenSettings): SessionTokenVerifier {
  const key = new TextEncoder().encode(settings.appSecret)
  const now = settings.now ?? Date.now

  return async function verifySessionToken(token) {
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload']
    try {
      ;({ payload } = await jwtVerify(token, key, {
        algorithms: ['HS256'],
        audience: settings.clientId,
        requiredClaims: ['exp', 'dest'],
        clockTolerance: CLOCK_TOLERANCE_S,
        currentDate: new Date(now()),
      }))
    } catch (error) {
      throw refusal(error)
    }
    if (shopOf(payload.dest) !== settings.shopDomain) {
      throw new ShopifyCredentialRefused('other_shop', 'the session token was issued for another shop')
    }
    if (payload.sub === undefined) {
      throw new ShopifyCredentialRefused('not_signed_in', 'the session token names no signed-in customer')
    }
    const id = customerIdFromGid(payload.sub)
    if (!id) throw new ShopifyCredentialRefused('claims', 'the session token subject is not a customer')
    return { id, email: null }
  }
}

/** `dest` as a lower-case host: `shop.myshopify.com` and `https://shop.myshopify.com` both name the shop. */
function shopOf(dest: unknown): string | null {
  if (typeof dest !== 'string') return null
  try {
    return new URL(dest.includes('://') ? dest : `https://${dest}`).hostname.toLowerCase()
  } catch {
    return null
  }
}

function refusal(error: unknown): ShopifyCredentialRefused {
  if (error instanceof joseErrors.JWTExpired)
    return new ShopifyCredentialRefused('expired', 'the session token has expired')
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return new ShopifyCredentialRefused('claims', `session token claim "${error.claim}" is invalid`)
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed || error instanceof joseErrors.JOSEAlgNotAllowed) {
    return new ShopifyCredentialRefused('signature', 'the session token is not signed with the app secret')
  }
  return new ShopifyCredentialRefused('malformed', 'the session token is not a well-formed JWT')
}
