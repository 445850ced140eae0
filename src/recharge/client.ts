import type { ZodType } from 'zod'
import { type Page, paginate } from './pagination.ts'
import { addressesResource } from './resources/addresses.ts'
import { asyncBatchesResource } from './resources/async-batches.ts'
import { chargesResource } from './resources/charges.ts'
import { checkoutsResource } from './resources/checkouts.ts'
import { customersResource } from './resources/customers.ts'
import { onetimesResource } from './resources/onetimes.ts'
import { ordersResource } from './resources/orders.ts'
import { paymentMethodsResource } from './resources/payment-methods.ts'
import { plansResource } from './resources/plans.ts'
import { productsResource } from './resources/products.ts'
import { retentionResource } from './resources/retention.ts'
import { storeResource } from './resources/store.ts'
import { subscriptionsResource } from './resources/subscriptions.ts'
import { tokenInformationResource } from './resources/token-information.ts'
import { webhooksResource } from './resources/webhooks.ts'
import type { CallOptions, QueryValue, RechargeTransport } from './types.ts'

/**
 * The typed Recharge client (`app.recharge`): one resource module per upstream resource, all over one transport
 * (queue + dispatcher). Feature code calls `app.recharge.subscriptions.get(id, { signal, requestId })`; anything not
 * covered by a resource method can use `transport.send` with its own lenient schema.
 */
export function createRechargeClient(transport: RechargeTransport) {
  return {
    /** The raw transport: `send({method, path, query, body, schema}, {lane, deadlineMs, signal, addressId})`. */
    transport,
    /** Every row of a cursor-paginated list, page by page; follow-up pages send only `cursor` + `limit`. */
    paginate<T>(
      request: { path: string; filters?: Record<string, QueryValue>; schema: ZodType<Page<T>> },
      options?: CallOptions & { limit?: number; maxPages?: number },
    ) {
      return paginate(transport, request, options)
    },
    customers: customersResource(transport),
    addresses: addressesResource(transport),
    subscriptions: subscriptionsResource(transport),
    charges: chargesResource(transport),
    orders: ordersResource(transport),
    onetimes: onetimesResource(transport),
    paymentMethods: paymentMethodsResource(transport),
    store: storeResource(transport),
    tokenInformation: tokenInformationResource(transport),
    products: productsResource(transport),
    plans: plansResource(transport),
    asyncBatches: asyncBatchesResource(transport),
    checkouts: checkoutsResource(transport),
    webhooks: webhooksResource(transport),
    retention: retentionResource(transport),
  }
}

export type RechargeClient = ReturnType<typeof createRechargeClient>
