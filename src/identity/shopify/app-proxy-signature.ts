import { createHmac, timingSafeEqual } from 'node:crypto'
import { ShopifyCredentialRefused } from './errors.ts'

/**
 * Shopify app-proxy signatures. Shopify adds `shop`, `logged_in_customer_id`, `path_prefix`, `timestamp` and
 * `signature` to the query of every request it forwards. The signature: drop `signature`; render each remaining
 * parameter as `key=value`, the values of a repeated key joined by `,` in the order they came; sort those strings;
 * concatenate them with no separator; hex HMAC-SHA256 keyed with the app's shared secret.
 */
export function appProxySignature(params: Iterable<[string, string]>, secret: string): string {
  const grouped = new Map<string, string[]>()
  for (const [key, value] of params) {
    if (key === 'signature') continue
    const values = grouped.get(key)
    if (values) values.push(value)
    else grouped.set(key, [value])
  }
  const message = [...grouped]
    .map(([key, values]) => `${key}=${values.join(',')}`)
    .sort()
    .join('')
  return createHmac('sha256', secret).update(message).digest('hex')
}

/** `params` as a query string with its `signature` appended (the stand-in and tests sign as Shopify would). */
export function signAppProxyQuery(params: [string, string][], secret: string): string {
  const query = new URLSearchParams(params)
  query.append('signature', appProxySignature(params, secret))
  return query.toString()
}

/** The parameters Shopify adds; the bridge's routes never see them. */
export const APP_PROXY_PARAMS = ['shop', 'logged_in_customer_id', 'path_prefix', 'timestamp', 'signature'] as const

export interface AppProxySettings {
  appSecret: string
  shopDomain: string
  /** Oldest timestamp accepted, in seconds: a captured URL replays for at most this long. */
  maxAgeS: number
  now?: () => number
}

/** Skew allowed for a timestamp ahead of our clock. */
const FUTURE_SKEW_S = 60

export interface VerifiedProxyRequest {
  /** Shopify's numeric customer id, or null when nobody is signed in on the storefront. */
  customerId: string | null
}

/**
 * Verify the raw query string of a proxied request (everything after `?`, undecoded): exactly one 64-hex-digit
 * signature, compared in constant time; a timestamp no older than `maxAgeS` and no more than a minute ahead; `shop` =
 * our shop. The signature is checked before anything else is read.
 */
export function verifyAppProxyQuery(rawQuery: string, settings: AppProxySettings): VerifiedProxyRequest {
  const params = new URLSearchParams(rawQuery)
  const signatures = params.getAll('signature')
  const given = signatures.length === 1 ? (signatures[0] as string) : ''
  if (!/^[0-9a-f]{64}$/i.test(given)) {
    throw new ShopifyCredentialRefused('signature', 'the request carries no app-proxy signature')
  }
  const expected = Buffer.from(appProxySignature(params, settings.appSecret), 'hex')
  if (!timingSafeEqual(Buffer.from(given.toLowerCase(), 'hex'), expected)) {
    throw new ShopifyCredentialRefused('signature', 'the app-proxy signature does not verify')
  }
  const timestamp = single(params, 'timestamp')
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) {
    throw new ShopifyCredentialRefused('malformed', 'the app-proxy request has no timestamp')
  }
  const nowS = Math.floor((settings.now ?? Date.now)() / 1000)
  const age = nowS - Number(timestamp)
  if (age > settings.maxAgeS) throw new ShopifyCredentialRefused('stale', 'the app-proxy request is too old')
  if (age < -FUTURE_SKEW_S) throw new ShopifyCredentialRefused('stale', 'the app-proxy timestamp is in the future')
  if (single(params, 'shop')?.toLowerCase() !== settings.shopDomain) {
    throw new ShopifyCredentialRefused('other_shop', 'the app-proxy request comes from another shop')
  }
  const customer = single(params, 'logged_in_customer_id') ?? ''
  if (customer === '') return { customerId: null }
  if (!/^\d{1,20}$/.test(customer))
    throw new ShopifyCredentialRefused('malformed', 'logged_in_customer_id is not an id')
  return { customerId: customer }
}

function single(params: URLSearchParams, key: string): string | undefined {
  const values = params.getAll(key)
  return values.length === 1 ? values[0] : undefined
}
