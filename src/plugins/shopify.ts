import type { FastifyBaseLogger } from 'fastify'
import fp from 'fastify-plugin'
import { AppError } from '../errors.ts'
import { type CustomerSubject, type MintedToken, mintCustomerToken, secretKey } from '../identity/customer-token.ts'
import type { CustomerIdentity } from '../identity/resolver.ts'
import type { ShopifyCustomer } from '../identity/shopify/customer.ts'
import { ShopifyCredentialRefused, ShopifyUnavailable } from '../identity/shopify/errors.ts'
import { createShopifySignIn, type ShopifySignIn, type ShopifySignInMethod } from '../identity/shopify/sign-in.ts'
import type { Shopper } from '../identity/shopper.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** Sign in with Shopify: credential verification and the mapping to the shopper's Recharge customer. */
    shopifyAuth: ShopifyAuth
  }
}

/** How long a client should wait before retrying when Shopify did not answer. */
const RETRY_AFTER_S = 5

export interface ShopifyAuth {
  readonly signIn: ShopifySignIn
  /** A Shopify credential exchanged for the bridge's customer token (the one POST /v1/admin/customer-tokens mints). */
  exchange(method: ShopifySignInMethod, credential: string, log: FastifyBaseLogger): Promise<MintedToken>
  /** The shopper a signed app-proxy request (its raw query string) stands for. */
  proxyShopper(rawQuery: string, log: FastifyBaseLogger): Promise<Shopper>
}

/**
 * Wires src/identity/shopify to the app: Shopify's answer becomes a Recharge customer through the same lookup the
 * admin token route uses (the account mirror first, so a mirrored store costs Recharge nothing), and every failure
 * becomes a problem: a refused credential 401 SHOPIFY_CREDENTIAL_REFUSED, a shopper Recharge does not know 404
 * RECHARGE_CUSTOMER_NOT_FOUND, Shopify slow or down 503 SHOPIFY_UNAVAILABLE with Retry-After. Logs name the method and
 * the reason, never the credential.
 */
export default fp(
  async function shopifyPlugin(app) {
    const signIn = createShopifySignIn(app.config)
    const key = secretKey(app.config.CUSTOMER_TOKEN_SECRET)
    const outcomes = app.metrics.counter(
      'recharge_bridge_shopify_sign_ins_total',
      'Sign in with Shopify attempts by method and outcome',
      ['method', 'outcome'],
    )

    async function rechargeIdentity(customer: ShopifyCustomer, method: string): Promise<CustomerIdentity> {
      const subject: CustomerSubject = { kind: 'external_id', externalCustomerId: customer.id }
      const identity = await app.shopperServices.records.identity(subject)
      if (!identity) {
        outcomes.inc({ method, outcome: 'no_recharge_customer' })
        throw new AppError('RECHARGE_CUSTOMER_NOT_FOUND', {
          detail:
            'Shopify knows this shopper, but Recharge has no customer for them yet (none until their first subscription).',
        })
      }
      return identity
    }

    function problem(error: unknown, method: string, log: FastifyBaseLogger): unknown {
      if (error instanceof ShopifyCredentialRefused) {
        outcomes.inc({ method, outcome: error.reason })
        log.info({ method, reason: error.reason }, 'Shopify credential refused')
        return new AppError('SHOPIFY_CREDENTIAL_REFUSED', { detail: `${error.message}.` })
      }
      if (error instanceof ShopifyUnavailable) {
        outcomes.inc({ method, outcome: `unavailable_${error.why}` })
        const level = error.why === 'misconfigured' ? 'error' : 'warn'
        log[level]({ method, why: error.why, err: { message: error.message } }, 'Shopify could not verify a credential')
        return new AppError('SHOPIFY_UNAVAILABLE', {
          detail: 'Shopify could not confirm who is signed in just now; try again shortly.',
          retryAfter: RETRY_AFTER_S,
        })
      }
      return error
    }

    const auth: ShopifyAuth = {
      signIn,
      async exchange(method, credential, log) {
        if (!signIn.methods[method]) {
          throw new AppError('SHOPIFY_METHOD_NOT_ENABLED', {
            detail: `This bridge does not accept ${method}; see docs/storefront-integration.md for the settings it needs.`,
          })
        }
        let customer: ShopifyCustomer
        try {
          customer = await signIn.verify(method, credential)
        } catch (error) {
          throw problem(error, method, log)
        }
        await rechargeIdentity(customer, method)
        outcomes.inc({ method, outcome: 'signed_in' })
        return mintCustomerToken({ kind: 'external_id', externalCustomerId: customer.id }, key)
      },
      async proxyShopper(rawQuery, log) {
        let customerId: string | null
        try {
          ;({ customerId } = signIn.verifyProxy(rawQuery))
        } catch (error) {
          throw problem(error, 'app_proxy', log)
        }
        if (customerId === null) {
          outcomes.inc({ method: 'app_proxy', outcome: 'not_signed_in' })
          throw new AppError('UNAUTHENTICATED', {
            detail: 'No shopper is signed in on the storefront; send them to the Shopify login first.',
          })
        }
        const identity = await rechargeIdentity({ id: customerId, email: null }, 'app_proxy')
        return {
          customerId: identity.customerId,
          email: identity.email,
          externalCustomerId: identity.externalCustomerId,
        }
      },
    }
    app.decorate('shopifyAuth', auth)
  },
  { name: 'shopify', dependencies: ['metrics', 'shopper'] },
)
