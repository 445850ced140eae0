import { CUSTOMERS } from '../simulator/seed-data.ts'

/** A shopper of the stand-in shop. `id` is Shopify's numeric customer id (the GID is gid://shopify/Customer/<id>). */
export interface ShopifyShopper {
  id: string
  email: string
  firstName: string
  lastName: string
}

/**
 * The Recharge simulator's seeded customers, under the same ids (their `external_customer_id` is the Shopify id), and
 * Frank, who shops on Shopify but never subscribed: Recharge has no customer for him.
 */
export const SHOPPER_WITHOUT_SUBSCRIPTIONS: ShopifyShopper = {
  id: '7001099',
  email: 'frank@example.com',
  firstName: 'Frank',
  lastName: 'Foster',
}

export function seedShoppers(): ShopifyShopper[] {
  return [
    ...CUSTOMERS.map((seed) => ({
      id: seed.externalId,
      email: seed.email,
      firstName: seed.first,
      lastName: seed.last,
    })),
    SHOPPER_WITHOUT_SUBSCRIPTIONS,
  ]
}

export function customerGid(id: string): string {
  return `gid://shopify/Customer/${id}`
}
