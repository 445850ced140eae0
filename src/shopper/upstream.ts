import type { addressesResource } from '../recharge/resources/addresses.ts'
import type { chargesResource } from '../recharge/resources/charges.ts'
import type { customersResource } from '../recharge/resources/customers.ts'
import type { onetimesResource } from '../recharge/resources/onetimes.ts'
import type { ordersResource } from '../recharge/resources/orders.ts'
import type { paymentMethodsResource } from '../recharge/resources/payment-methods.ts'
import type { retentionResource } from '../recharge/resources/retention.ts'
import type { subscriptionsResource } from '../recharge/resources/subscriptions.ts'

/** The part of `app.recharge` the shopper API uses (structural, so tests and the client stay decoupled). */
export interface ShopperUpstream {
  customers: ReturnType<typeof customersResource>
  subscriptions: ReturnType<typeof subscriptionsResource>
  charges: ReturnType<typeof chargesResource>
  orders: ReturnType<typeof ordersResource>
  addresses: ReturnType<typeof addressesResource>
  onetimes: ReturnType<typeof onetimesResource>
  paymentMethods: ReturnType<typeof paymentMethodsResource>
  retention: ReturnType<typeof retentionResource>
}

/** How many rows one shopper list may hold before we stop paging (a shopper with more is not a shopper). */
export const MAX_SHOPPER_ROWS = 500
