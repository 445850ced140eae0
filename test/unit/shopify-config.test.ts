import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.ts'
import { createShopifySignIn } from '../../src/identity/shopify/sign-in.ts'

function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env)
    return []
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    return [...error.problems]
  }
}

const shop = 'my-store.myshopify.com'

describe('Sign in with Shopify settings', () => {
  it('are all off by default', () => {
    const signIn = createShopifySignIn(loadConfig({}))
    expect(signIn.shopDomain).toBeNull()
    expect(Object.values(signIn.methods)).toEqual([false, false, false, false])
  })

  it('enable each method only when its own settings are present', () => {
    const methods = (env: Record<string, string>) => createShopifySignIn(loadConfig(env)).methods
    expect(methods({ SHOPIFY_SHOP_DOMAIN: shop })).toEqual({
      customer_account_access_token: true,
      storefront_customer_access_token: false,
      session_token: false,
      app_proxy: false,
    })
    expect(
      methods({ SHOPIFY_SHOP_DOMAIN: shop, SHOPIFY_STOREFRONT_TOKEN: 'storefront-token-0123456789' }),
    ).toMatchObject({ storefront_customer_access_token: true, session_token: false, app_proxy: false })
    expect(methods({ SHOPIFY_SHOP_DOMAIN: shop, SHOPIFY_APP_SECRET: 'shpss_0123456789abcdef' })).toMatchObject({
      session_token: false,
      app_proxy: true,
    })
    expect(
      methods({ SHOPIFY_SHOP_DOMAIN: shop, SHOPIFY_APP_SECRET: 'shpss_0123456789abcdef', SHOPIFY_APP_CLIENT_ID: 'id' }),
    ).toMatchObject({ session_token: true, app_proxy: true })
  })

  it('take the shop as its permanent domain, lower-cased', () => {
    expect(loadConfig({ SHOPIFY_SHOP_DOMAIN: ' My-Store.MyShopify.com ' }).SHOPIFY_SHOP_DOMAIN).toBe(shop)
    expect(problems({ SHOPIFY_SHOP_DOMAIN: 'https://my-store.myshopify.com' })[0]).toMatch(/^SHOPIFY_SHOP_DOMAIN: /)
    expect(problems({ SHOPIFY_SHOP_DOMAIN: 'shop.example.com' })[0]).toMatch(/^SHOPIFY_SHOP_DOMAIN: /)
  })

  it('refuse a Shopify setting without the shop, a client id without the secret, a short secret', () => {
    expect(problems({ SHOPIFY_APP_SECRET: 'shpss_0123456789abcdef' })).toEqual([
      'SHOPIFY_APP_SECRET: needs SHOPIFY_SHOP_DOMAIN (the shop it belongs to)',
    ])
    expect(problems({ SHOPIFY_SHOP_DOMAIN: shop, SHOPIFY_APP_CLIENT_ID: 'id' })).toEqual([
      'SHOPIFY_APP_CLIENT_ID: needs SHOPIFY_APP_SECRET (session tokens are signed with it)',
    ])
    expect(problems({ SHOPIFY_SHOP_DOMAIN: shop, SHOPIFY_APP_SECRET: 'short' })[0]).toMatch(/^SHOPIFY_APP_SECRET: /)
  })

  it('send shoppers’ tokens over plain http only to a loopback or private stand-in', () => {
    expect(problems({ SHOPIFY_SHOP_DOMAIN: shop, SHOPIFY_API_URL: 'http://127.0.0.1:4020' })).toEqual([])
    expect(problems({ SHOPIFY_SHOP_DOMAIN: shop, SHOPIFY_API_URL: 'http://shopify.example.com' })[0]).toMatch(
      /^SHOPIFY_API_URL: .*https/,
    )
  })
})
