import { describe, expect, it } from 'vitest'
import {
  appProxySignature,
  signAppProxyQuery,
  verifyAppProxyQuery,
} from '../../src/identity/shopify/app-proxy-signature.ts'
import { ShopifyCredentialRefused } from '../../src/identity/shopify/errors.ts'

/**
 * Shopify's documented example ("Authenticate app proxies", shopify.dev): shared secret `hush`, the shopper's request
 * `GET /apps/awesome_reviews/extra/path/components?extra=1&extra=2`, forwarded with shop, path_prefix and timestamp.
 * The documented verification snippet signs `extra=1&extra=2&shop=shop-name.myshopify.com&path_prefix=…&timestamp=
 * 1317327555` to a9718877…ef3; the documented forwarded request (which also carries logged_in_customer_id=1) shows a
 * signature beginning 4c68c8624d737112c91818c11017d24d334b.
 */
const DOCUMENTED_QUERY =
  'extra=1&extra=2&shop=shop-name.myshopify.com&path_prefix=%2Fapps%2Fawesome_reviews&timestamp=1317327555&signature=a9718877bea71c2484f91608a7eaea1532bdf71f5c56825065fa4ccabe549ef3'
const DOCUMENTED_SIGNATURE = 'a9718877bea71c2484f91608a7eaea1532bdf71f5c56825065fa4ccabe549ef3'
const DOCUMENTED_AT = 1317327555 * 1000
const settings = { appSecret: 'hush', shopDomain: 'shop-name.myshopify.com', maxAgeS: 300 }

function refusal(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    if (error instanceof ShopifyCredentialRefused) return error.reason
    throw error
  }
  return 'accepted'
}

describe('app-proxy signature: Shopify’s documented example', () => {
  it('the documented query string and secret give the documented signature', () => {
    expect(appProxySignature(new URLSearchParams(DOCUMENTED_QUERY), 'hush')).toBe(DOCUMENTED_SIGNATURE)
  })

  it('the documented forwarded request (logged_in_customer_id=1) gives the signature its prefix shows', () => {
    const forwarded =
      'extra=1&extra=2&shop=shop-name.myshopify.com&logged_in_customer_id=1&path_prefix=%2Fapps%2Fawesome_reviews&timestamp=1317327555'
    expect(appProxySignature(new URLSearchParams(forwarded), 'hush')).toMatch(/^4c68c8624d737112c91818c11017d24d334b/)
  })

  it('the documented request verifies at its own timestamp, with nobody signed in', () => {
    expect(verifyAppProxyQuery(DOCUMENTED_QUERY, { ...settings, now: () => DOCUMENTED_AT + 5_000 })).toEqual({
      customerId: null,
    })
  })

  it('parameter order does not matter; repeated values keep theirs', () => {
    const reordered =
      'timestamp=1317327555&path_prefix=%2Fapps%2Fawesome_reviews&extra=1&shop=shop-name.myshopify.com&extra=2'
    expect(appProxySignature(new URLSearchParams(reordered), 'hush')).toBe(DOCUMENTED_SIGNATURE)
    const swapped =
      'extra=2&extra=1&shop=shop-name.myshopify.com&path_prefix=%2Fapps%2Fawesome_reviews&timestamp=1317327555'
    expect(appProxySignature(new URLSearchParams(swapped), 'hush')).not.toBe(DOCUMENTED_SIGNATURE)
  })
})

describe('app-proxy verification', () => {
  const now = () => DOCUMENTED_AT + 5_000
  it('refuses a changed parameter, another secret, a missing or doubled signature', () => {
    expect(
      refusal(() => verifyAppProxyQuery(DOCUMENTED_QUERY.replace('extra=2', 'extra=3'), { ...settings, now })),
    ).toBe('signature')
    expect(refusal(() => verifyAppProxyQuery(DOCUMENTED_QUERY, { ...settings, appSecret: 'hushh', now }))).toBe(
      'signature',
    )
    expect(
      refusal(() => verifyAppProxyQuery(DOCUMENTED_QUERY.split('&signature=')[0] as string, { ...settings, now })),
    ).toBe('signature')
    expect(
      refusal(() => verifyAppProxyQuery(`${DOCUMENTED_QUERY}&signature=${DOCUMENTED_SIGNATURE}`, { ...settings, now })),
    ).toBe('signature')
  })

  it('refuses a timestamp older than the allowed age or too far ahead', () => {
    expect(
      refusal(() => verifyAppProxyQuery(DOCUMENTED_QUERY, { ...settings, now: () => DOCUMENTED_AT + 301_000 })),
    ).toBe('stale')
    expect(
      refusal(() => verifyAppProxyQuery(DOCUMENTED_QUERY, { ...settings, now: () => DOCUMENTED_AT - 120_000 })),
    ).toBe('stale')
    expect(
      refusal(() => verifyAppProxyQuery(DOCUMENTED_QUERY, { ...settings, now: () => DOCUMENTED_AT + 299_000 })),
    ).toBe('accepted')
  })

  it('refuses another shop, even correctly signed', () => {
    expect(
      refusal(() => verifyAppProxyQuery(DOCUMENTED_QUERY, { ...settings, shopDomain: 'mine.myshopify.com', now })),
    ).toBe('other_shop')
  })

  it('names the signed-in shopper', () => {
    const query = signAppProxyQuery(
      [
        ['shop', 'shop-name.myshopify.com'],
        ['logged_in_customer_id', '7001001'],
        ['path_prefix', '/apps/subscriptions'],
        ['timestamp', '1317327555'],
      ],
      'hush',
    )
    expect(verifyAppProxyQuery(query, { ...settings, now })).toEqual({ customerId: '7001001' })
  })
})
