/**
 * The two ways verifying a Shopify credential can fail. Neither carries the credential: messages and reasons go to
 * logs and metrics as they are.
 */

/** Why Shopify (or the credential's own signature) does not vouch for the shopper. */
export type ShopifyRefusal =
  | 'unknown'
  | 'expired'
  | 'signature'
  | 'claims'
  | 'other_shop'
  | 'stale'
  | 'malformed'
  | 'not_signed_in'

/** The credential is not good: the shopper must sign in to Shopify again (401). */
export class ShopifyCredentialRefused extends Error {
  readonly reason: ShopifyRefusal
  constructor(reason: ShopifyRefusal, message: string) {
    super(message)
    this.name = 'ShopifyCredentialRefused'
    this.reason = reason
  }
}

/** Why Shopify could not decide: retry later (503), the credential may well be good. */
export type ShopifyFailure = 'timeout' | 'unreachable' | 'status' | 'malformed' | 'misconfigured'

export class ShopifyUnavailable extends Error {
  readonly why: ShopifyFailure
  constructor(why: ShopifyFailure, message: string) {
    super(message)
    this.name = 'ShopifyUnavailable'
    this.why = why
  }
}
