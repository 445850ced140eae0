import { CUSTOMERS } from '../simulator/seed-data.ts'
import { DUNNING_SHOPPER_EMAIL } from '../simulator/seed-dunning.ts'

/** A shopper of the stand-in shop. `id` is Shopify's numeric customer id (the GID is gid://shopify/Customer/<id>). */
export interface ShopifyShopper {
  id: string
  email: string
  firstName: string
  lastName: string
}

/**
 * The Recharge simulator's seeded customers (the dunning shopper included), under the same ids (their
 * `external_customer_id` is the Shopify id), and Grace, who shops on Shopify but never subscribed: Recharge has no
 * customer for her.
 */
export const SHOPPER_WITHOUT_SUBSCRIPTIONS: ShopifyShopper = {
  id: '7001099',
  email: 'grace@example.com',
  firstName: 'Grace',
  lastName: 'Green',
}

/** The simulator's shopper in dunning (src/simulator/seed-dunning.ts). */
const DUNNING_SHOPPER: ShopifyShopper = {
  id: '7001006',
  email: DUNNING_SHOPPER_EMAIL,
  firstName: 'Frank',
  lastName: 'Fischer',
}

export function seedShoppers(): ShopifyShopper[] {
  return [
    ...CUSTOMERS.map((seed) => ({
      id: seed.externalId,
      email: seed.email,
      firstName: seed.first,
      lastName: seed.last,
    })),
    DUNNING_SHOPPER,
    SHOPPER_WITHOUT_SUBSCRIPTIONS,
  ]
}

export function customerGid(id: string): string {
  return `gid://shopify/Customer/${id}`
}
