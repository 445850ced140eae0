/**
 * Per-client-IP budgets of the checkout routes, per minute, derived from CHECKOUT_RATE_LIMIT_PER_MINUTE.
 *
 * Creating a checkout costs upstream calls and catalog lookups, and a charge attempt is what card-testing bots
 * hammer, so those get the smallest budgets; reads (a storefront polling totals) the largest. Each route counts on
 * its own, keyed by the client IP Fastify resolved (TRUST_PROXY decides whether X-Forwarded-For is believed).
 */
export interface CheckoutRateLimits {
  read: { max: number; timeWindow: number }
  update: { max: number; timeWindow: number }
  create: { max: number; timeWindow: number }
  charge: { max: number; timeWindow: number }
}

export function checkoutRateLimits(perMinute: number): CheckoutRateLimits {
  const budget = (share: number) => ({ max: Math.max(1, Math.floor(perMinute * share)), timeWindow: 60_000 })
  return { read: budget(1), update: budget(1 / 2), create: budget(1 / 3), charge: budget(1 / 6) }
}
