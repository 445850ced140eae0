import type { Buyer } from './service.ts'

/**
 * Cache tags to drop once a checkout is processed. The purchase created (or extended) a Recharge customer with new
 * subscriptions, an address, a charge and an order, so whatever the cache holds for that customer is stale:
 *  - `customer:<id>`: every customer-scoped entry (subscriptions, charges, orders, addresses, the profile);
 *  - `customer-email:<email>`: the identity lookup by email, which may hold "no such customer" for a first-time
 *    buyer who opened their account page before buying (a negative entry would hide the new subscriptions).
 */
export function buyerTags(buyer: Buyer): string[] {
  const tags: string[] = []
  if (buyer.customerId) tags.push(`customer:${buyer.customerId}`)
  if (buyer.email) tags.push(`customer-email:${buyer.email.trim().toLowerCase()}`)
  return tags
}
