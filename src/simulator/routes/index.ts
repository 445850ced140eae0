import type { FastifyInstance } from 'fastify'
import type { Simulator } from '../context.ts'
import { addressSkipRoutes } from './address-skips.ts'
import { addressRoutes } from './addresses.ts'
import { asyncBatchRoutes } from './async-batches.ts'
import { chargeActionRoutes } from './charge-actions.ts'
import { chargeRoutes } from './charges.ts'
import { checkoutRoutes } from './checkouts.ts'
import { customerRoutes } from './customers.ts'
import { deliveryScheduleRoutes } from './delivery-schedule.ts'
import { discountRoutes } from './discounts.ts'
import { notificationRoutes } from './notifications.ts'
import { onetimeRoutes } from './onetimes.ts'
import { orderRoutes } from './orders.ts'
import { paymentMethodRoutes } from './payment-methods.ts'
import { planRoutes } from './plans.ts'
import { productRoutes } from './products.ts'
import { retentionStrategyRoutes } from './retention-strategies.ts'
import { storeRoutes } from './store.ts'
import { subscriptionRoutes } from './subscriptions.ts'
import { webhookRoutes } from './webhooks.ts'

/** Every Recharge 2021-11 resource the simulator implements, one module per resource. */
export async function registerRechargeRoutes(app: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  for (const routes of [
    customerRoutes,
    addressRoutes,
    paymentMethodRoutes,
    subscriptionRoutes,
    chargeRoutes,
    orderRoutes,
    onetimeRoutes,
    productRoutes,
    planRoutes,
    storeRoutes,
    checkoutRoutes,
    webhookRoutes,
    asyncBatchRoutes,
    retentionStrategyRoutes,
    discountRoutes,
    chargeActionRoutes,
    deliveryScheduleRoutes,
    notificationRoutes,
    addressSkipRoutes,
  ]) {
    await app.register(routes, { sim })
  }
}
