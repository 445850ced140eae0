import type { Config } from './config.ts'

type DemoSettings = Pick<Config, 'demoMode' | 'DEMO_STOREFRONT' | 'NODE_ENV' | 'RECHARGE_API_URL'>

/**
 * The demo storefront (and its password-less sign-in) exists in demo mode, or with DEMO_STOREFRONT=true outside
 * production; never while the bridge talks to Recharge itself.
 */
export function demoStorefrontEnabled(config: DemoSettings): boolean {
  if (config.demoMode) return true
  return config.DEMO_STOREFRONT === true && config.NODE_ENV !== 'production' && !talksToRecharge(config)
}

function talksToRecharge(config: Pick<Config, 'RECHARGE_API_URL'>): boolean {
  const host = new URL(config.RECHARGE_API_URL).hostname
  return host === 'rechargeapps.com' || host.endsWith('.rechargeapps.com')
}

/**
 * Where a shopper's browser opens Recharge's hosted pages (customer portal, checkout) when a simulator stands in for
 * Recharge: the bridge itself, which forwards `/portal/*` and `/r/checkout/*` to the simulator's stand-ins
 * (src/routes/demo.ts). The simulator's own address is often not reachable from the browser: the embedded one listens
 * on the container's loopback, a compose service by its network name. Undefined when Recharge's hosts serve them.
 */
export function hostedPagesThroughBridge(config: DemoSettings & Pick<Config, 'PUBLIC_URL'>): string | undefined {
  return demoStorefrontEnabled(config) ? config.PUBLIC_URL.replace(/\/$/, '') : undefined
}
