import type { Config } from '../config.ts'
import { hostedPagesThroughBridge } from '../demo-mode.ts'
import { AppError } from '../errors.ts'
import type { PortalPage } from './account-schemas.ts'

/**
 * The Recharge hosted customer portal for a Custom-platform store:
 * `https://<subdomain>.admin.rechargeapps.com/portal/<customer hash>/subscriptions`. The hash authenticates the
 * shopper to the portal, so it is a credential: built here, returned only inside this URL, never logged or cached.
 * Against a simulator (demo storefront on) the same path under the bridge's PUBLIC_URL, which forwards it to the
 * simulator's stand-in portal (src/demo-mode.ts).
 */
const validHash = /^[A-Za-z0-9_-]{6,128}$/

type PortalConfig = Pick<
  Config,
  'demoMode' | 'DEMO_STOREFRONT' | 'NODE_ENV' | 'RECHARGE_API_URL' | 'RECHARGE_STORE_SUBDOMAIN' | 'PUBLIC_URL'
>

/**
 * The portal URL for a customer hash and page (`overview`, `subscriptions`, `orders`, `payment_methods`,
 * `addresses`: the hosted portal's deep-link pages; default `subscriptions`), with everything that depends only on
 * configuration worked out once: the hand-off builds one per call.
 */
export function portalUrlBuilder(config: PortalConfig): (customerHash: string, page?: PortalPage) => string {
  const throughBridge = hostedPagesThroughBridge(config)
  const origin =
    throughBridge ??
    (config.RECHARGE_STORE_SUBDOMAIN ? `https://${config.RECHARGE_STORE_SUBDOMAIN}.admin.rechargeapps.com` : undefined)
  return (customerHash, page = 'subscriptions') => {
    if (!validHash.test(customerHash)) {
      throw new AppError('UPSTREAM_UNAVAILABLE', { detail: 'Recharge returned no usable customer portal reference' })
    }
    if (origin === undefined) {
      throw new AppError('PORTAL_UNAVAILABLE', {
        detail: 'The hosted portal needs RECHARGE_STORE_SUBDOMAIN to be configured on the bridge.',
      })
    }
    // The hash is URL-safe by the check above, the page one of a fixed list: nothing to encode.
    return `${origin}/portal/${customerHash}/${page}`
  }
}
