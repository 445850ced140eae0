import type { Config } from '../config.ts'
import { hostedPagesThroughBridge } from '../demo/mode.ts'
import { AppError } from '../errors.ts'

/**
 * The Recharge hosted customer portal for a Custom-platform store:
 * `https://<subdomain>.admin.rechargeapps.com/portal/<customer hash>/subscriptions`. The hash authenticates the
 * shopper to the portal, so it is a credential: built here, returned only inside this URL, never logged or cached.
 * Against a simulator (demo storefront on) the same path under the bridge's PUBLIC_URL, which forwards it to the
 * simulator's stand-in portal (src/demo/mode.ts).
 */
const validHash = /^[A-Za-z0-9_-]{6,128}$/

export function hostedPortalUrl(
  config: Pick<
    Config,
    'demoMode' | 'DEMO_STOREFRONT' | 'NODE_ENV' | 'RECHARGE_API_URL' | 'RECHARGE_STORE_SUBDOMAIN' | 'PUBLIC_URL'
  >,
  customerHash: string,
): string {
  if (!validHash.test(customerHash)) {
    throw new AppError('UPSTREAM_UNAVAILABLE', { detail: 'Recharge returned no usable customer portal reference' })
  }
  const path = `/portal/${encodeURIComponent(customerHash)}/subscriptions`
  const throughBridge = hostedPagesThroughBridge(config)
  if (throughBridge !== undefined) return `${throughBridge}${path}`
  if (!config.RECHARGE_STORE_SUBDOMAIN) {
    throw new AppError('PORTAL_UNAVAILABLE', {
      detail: 'The hosted portal needs RECHARGE_STORE_SUBDOMAIN to be configured on the bridge.',
    })
  }
  return `https://${config.RECHARGE_STORE_SUBDOMAIN}.admin.rechargeapps.com${path}`
}
