import { MockAgent } from 'undici'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createCustomerAccountVerifier } from '../../src/identity/shopify/customer-account.ts'
import { ShopifyCredentialRefused, ShopifyUnavailable } from '../../src/identity/shopify/errors.ts'
import { createStorefrontVerifier } from '../../src/identity/shopify/storefront.ts'

/**
 * How the Customer Account and Storefront verifiers read Shopify's answers (undici MockAgent, no network): what is a
 * refusal of the shopper's credential (401), what is Shopify failing to decide (503), and what the verifier refuses to
 * send a token to.
 */
const SHOP = 'https://shop.example'
let agent: MockAgent

beforeEach(() => {
  agent = new MockAgent()
  agent.disableNetConnect()
})

afterEach(async () => {
  await agent.close()
})

const signal = () => AbortSignal.timeout(5_000)

async function outcome(run: () => Promise<unknown>): Promise<string> {
  try {
    const result = await run()
    return `ok ${JSON.stringify(result)}`
  } catch (error) {
    if (error instanceof ShopifyCredentialRefused) return `refused ${error.reason}`
    if (error instanceof ShopifyUnavailable) return `unavailable ${error.why}`
    throw error
  }
}

function customerAccount() {
  return createCustomerAccountVerifier({ apiUrl: SHOP, cacheTtlMs: 60_000, dispatcher: agent })
}

function discovery(graphqlApi = 'https://shopify.example/123/account/customer/api/2025-07/graphql') {
  agent
    .get(SHOP)
    .intercept({ path: '/.well-known/customer-account-api', method: 'GET' })
    .reply(200, { graphql_api: graphqlApi })
}

describe('Customer Account API verifier', () => {
  it('sends the bare token to the discovered endpoint and reads the customer', async () => {
    discovery()
    agent
      .get('https://shopify.example')
      .intercept({
        path: '/123/account/customer/api/2025-07/graphql',
        method: 'POST',
        headers: { authorization: 'shcat_token_0001' },
      })
      .reply(200, { data: { customer: { id: 'gid://shopify/Customer/42', emailAddress: { emailAddress: 'A@B.C' } } } })
    expect(await outcome(() => customerAccount()('shcat_token_0001', signal()))).toBe('ok {"id":"42","email":"a@b.c"}')
  })

  it('will not send a token to a plain-http endpoint when the shop is https', async () => {
    discovery('http://shopify.example/graphql')
    expect(await outcome(() => customerAccount()('shcat_token_0001', signal()))).toBe('unavailable malformed')
  })

  it.each([
    [401, { errors: [{ message: 'Unauthorized' }] }, 'refused unknown'],
    [200, { data: { customer: null } }, 'refused unknown'],
    [200, { data: { customer: { id: 'gid://shopify/Order/1' } } }, 'unavailable malformed'],
    [200, 'not json', 'unavailable malformed'],
    [429, { errors: 'Throttled' }, 'unavailable status'],
    [502, '', 'unavailable status'],
  ])('an answer %i %j is %s', async (status, body, expected) => {
    discovery()
    agent
      .get('https://shopify.example')
      .intercept({ path: '/123/account/customer/api/2025-07/graphql', method: 'POST' })
      .reply(status, typeof body === 'string' ? body : JSON.stringify(body))
    expect(await outcome(() => customerAccount()('shcat_token_0001', signal()))).toBe(expected)
  })
})

describe('Storefront API verifier', () => {
  const verifier = () =>
    createStorefrontVerifier({
      apiUrl: SHOP,
      apiVersion: '2025-07',
      storefrontToken: 'merchant-storefront-token',
      cacheTtlMs: 60_000,
      dispatcher: agent,
    })

  it.each([
    [200, { data: { customer: { id: 'gid://shopify/Customer/7', email: 'x@y.z' } } }, 'ok {"id":"7","email":"x@y.z"}'],
    [200, { data: { customer: null } }, 'refused unknown'],
    [401, { errors: '[API] Invalid API key or access token' }, 'unavailable misconfigured'],
    [200, { errors: [{ message: 'syntax' }] }, 'unavailable malformed'],
    [500, '', 'unavailable status'],
  ])('an answer %i %j is %s', async (status, body, expected) => {
    agent
      .get(SHOP)
      .intercept({
        path: '/api/2025-07/graphql.json',
        method: 'POST',
        headers: { 'x-shopify-storefront-access-token': 'merchant-storefront-token' },
      })
      .reply(status, typeof body === 'string' ? body : JSON.stringify(body))
    expect(await outcome(() => verifier()('customer-token-0001', signal()))).toBe(expected)
  })
})
