import type { Dispatcher } from 'undici'
import { z } from 'zod'
import { HashedAnswerCache } from './answer-cache.ts'
import { customerIdFromGid, type ShopifyCustomer } from './customer.ts'
import { ShopifyCredentialRefused, ShopifyUnavailable } from './errors.ts'
import { callShopify } from './http.ts'

/**
 * Customer Account API access tokens (Hydrogen's login, `shcat_…`): opaque to us, so Shopify is asked who holds the
 * token. The GraphQL endpoint comes from the shop's discovery document (`/.well-known/customer-account-api`), fetched
 * once and kept (a failed discovery is retried by the next sign-in). The token goes as Shopify documents it, the bare
 * token in `Authorization`.
 */
const CUSTOMER_QUERY = 'query { customer { id emailAddress { emailAddress } } }'

const discoverySchema = z.object({ graphql_api: z.url({ protocol: /^https?$/ }) })

const answerSchema = z.object({
  data: z
    .object({
      customer: z
        .object({
          id: z.string(),
          emailAddress: z.object({ emailAddress: z.string().nullable().optional() }).nullable().optional(),
        })
        .nullable()
        .optional(),
    })
    .nullable()
    .optional(),
  errors: z.unknown().optional(),
})

export interface CustomerAccountSettings {
  /** Where the shop's APIs answer (`https://<shop>` or the stand-in). */
  apiUrl: string
  /** How long a positive answer is remembered (below the tokens' lifetime of an hour or more). */
  cacheTtlMs: number
  dispatcher?: Dispatcher
}

export type CustomerAccountVerifier = (accessToken: string, signal: AbortSignal) => Promise<ShopifyCustomer>

export function createCustomerAccountVerifier(settings: CustomerAccountSettings): CustomerAccountVerifier {
  const answers = new HashedAnswerCache<ShopifyCustomer>({ ttlMs: settings.cacheTtlMs })
  let endpoint: Promise<string> | null = null

  async function discover(signal: AbortSignal): Promise<string> {
    const answer = await callShopify(
      `${settings.apiUrl}/.well-known/customer-account-api`,
      { method: 'GET', signal },
      settings.dispatcher,
    )
    if (answer.status !== 200) {
      throw new ShopifyUnavailable('status', `Customer Account API discovery answered ${answer.status}`)
    }
    const parsed = discoverySchema.safeParse(answer.body)
    if (!parsed.success) throw new ShopifyUnavailable('malformed', 'the discovery document names no graphql_api')
    // Shoppers' tokens go to this URL: never over plain http when the shop itself is reached over https.
    if (settings.apiUrl.startsWith('https:') && !parsed.data.graphql_api.startsWith('https:')) {
      throw new ShopifyUnavailable('malformed', 'the discovery document names a graphql_api that is not https')
    }
    return parsed.data.graphql_api
  }

  return async function verifyCustomerAccountToken(accessToken, signal) {
    const remembered = answers.get(accessToken)
    if (remembered) return remembered
    if (!endpoint) {
      endpoint = discover(signal)
      endpoint.catch(() => {
        endpoint = null
      })
    }
    const url = await endpoint
    const answer = await callShopify(
      url,
      { method: 'POST', headers: { authorization: accessToken }, body: { query: CUSTOMER_QUERY }, signal },
      settings.dispatcher,
    )
    if (answer.status === 401 || answer.status === 403) {
      throw new ShopifyCredentialRefused('unknown', 'Shopify does not know this Customer Account access token')
    }
    if (answer.status !== 200) {
      throw new ShopifyUnavailable('status', `the Customer Account API answered ${answer.status}`)
    }
    const parsed = answerSchema.safeParse(answer.body)
    if (!parsed.success) throw new ShopifyUnavailable('malformed', 'the Customer Account API answer is not understood')
    const customer = parsed.data.data?.customer
    if (!customer) {
      throw new ShopifyCredentialRefused('unknown', 'the Customer Account API names no customer for this token')
    }
    const id = customerIdFromGid(customer.id)
    if (!id) throw new ShopifyUnavailable('malformed', 'the Customer Account API answered an unexpected customer id')
    const result: ShopifyCustomer = { id, email: customer.emailAddress?.emailAddress?.toLowerCase() ?? null }
    answers.set(accessToken, result)
    return result
  }
}
