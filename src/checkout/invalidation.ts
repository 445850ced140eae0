import { createHash } from 'node:crypto'
import type { Buyer } from './service.ts'

/**
 * Cache tags to drop once a checkout is processed. The purchase created (or extended) a Recharge customer with new
 * subscriptions, an address, a charge and an order, so whatever the cache holds for that customer is stale:
 *  - `customer:<id>`: every customer-scoped entry (subscriptions, charges, orders, addresses, the profile, the
 *    identity lookup of an existing customer);
 *  - `customer-subject:<hash>`: the identity lookup by email, which for a first-time buyer who opened their account
 *    page before buying holds "no such customer" (a negative entry carries no customer id to tag). The hash is the
 *    shopper identity cache's own subject key, sha256("email:" + lower-cased email), so no email appears in Redis.
 */
export function customerSubjectTag(email: string): string {
  const digest = createHash('sha256').update(`email:${email.trim().toLowerCase()}`).digest('base64url')
  return `customer-subject:${digest}`
}

export function buyerTags(buyer: Buyer): string[] {
  const tags: string[] = []
  if (buyer.customerId) tags.push(`customer:${buyer.customerId}`)
  if (buyer.email) tags.push(customerSubjectTag(buyer.email))
  return tags
}
