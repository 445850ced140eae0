import type { Dispatcher } from 'undici'
import { z } from 'zod'
import { HashedAnswerCache } from './answer-cache.ts'
import { customerIdFromGid, type ShopifyCustomer } from './customer.ts'
import { ShopifyCredentialRefused, ShopifyUnavailable } from './errors.ts'
import { callShopify } from './http.ts'

/**
 * Storefront API customer access tokens (the older `customerAccessTokenCreate` login), verified with the Storefront
 * API's `customer(customerAccessToken:)` query under the merchant's Storefront access token. Shopify answers
 * `customer: null` for a token it does not honour (unknown, expired, deleted); a 401/403 means the merchant's
 * Storefront token is wrong, which is our configuration, not the shopper's fault: 503, told to the operator.
 */
const CUSTOMER_QUERY =
  'query customer($customerAccessToken: String!) { customer(customerAccessToken: $customerAccessToken) { id email } }'

const answerSchema = z.object({
  data: z
    .object({
      customer: z.object({ id: z.string(), email: z.string().nullable().optional() }).nullable().optional(),
    })
    .nullable()
    .optional(),
  errors: z.unknown().optional(),
})

export interface StorefrontSettings {
  apiUrl: string
  apiVersion: string
  storefrontToken: string
  cacheTtlMs: number
  dispatcher?: Dispatcher
}

export type StorefrontVerifier = (customerAccessToken: string, signal: AbortSignal) => Promise<ShopifyCustomer>

export function createStorefrontVerifier(settings: StorefrontSettings): StorefrontVerifier {
  const answers = new HashedAnswerCache<ShopifyCustomer>({ ttlMs: settings.cacheTtlMs })
  const url = `${settings.apiUrl}/api/${settings.apiVersion}/graphql.json`

  return async function verifyStorefrontToken(customerAccessToken, signal) {
    const remembered = answers.get(customerAccessToken)
    if (remembered) return remembered
    const answer = await callShopify(
      url,
      {
        method: 'POST',
        headers: { 'x-shopify-storefront-access-token': settings.storefrontToken },
        body: { query: CUSTOMER_QUERY, variables: { customerAccessToken } },
        signal,
      },
      settings.dispatcher,
    )
    if (answer.status === 401 || answer.status === 403) {
      throw new ShopifyUnavailable(
        'misconfigured',
        `the Storefront API refused SHOPIFY_STOREFRONT_TOKEN (${answer.status})`,
      )
    }
    if (answer.status !== 200) throw new ShopifyUnavailable('status', `the Storefront API answered ${answer.status}`)
    const parsed = answerSchema.safeParse(answer.body)
    if (!parsed.success || parsed.data.data === undefined || parsed.data.data === null) {
      throw new ShopifyUnavailable('malformed', 'the Storefront API answer is not understood')
    }
    const customer = parsed.data.data.customer
    if (!customer) throw new ShopifyCredentialRefused('unknown', 'Shopify does not honour this customer access token')
    const id = customerIdFromGid(customer.id)
    if (!id) throw new ShopifyUnavailable('malformed', 'the Storefront API answered an unexpected customer id')
    const result: ShopifyCustomer = { id, email: customer.email?.toLowerCase() ?? null }
    answers.set(customerAccessToken, result)
    return result
  }
}
