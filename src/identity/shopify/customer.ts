/** The shopper a Shopify credential proves, by Shopify's numeric customer id (Recharge's `external_customer_id`). */
export interface ShopifyCustomer {
  id: string
  email: string | null
}

const CUSTOMER_GID = /^gid:\/\/shopify\/Customer\/(\d{1,20})$/

/** `gid://shopify/Customer/123` → `123`; null for anything else. */
export function customerIdFromGid(gid: unknown): string | null {
  return typeof gid === 'string' ? (CUSTOMER_GID.exec(gid)?.[1] ?? null) : null
}
