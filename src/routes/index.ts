import type { FastifyInstance } from 'fastify'
import addresses from './addresses.ts'
import admin from './admin.ts'
import adminImports from './admin-imports.ts'
import adminMirror from './admin-mirror.ts'
import appProxy from './app-proxy.ts'
import authShopify from './auth-shopify.ts'
import catalog from './catalog.ts'
import charges from './charges.ts'
import checkouts from './checkouts.ts'
import deliverySchedule from './delivery-schedule.ts'
import demo from './demo.ts'
import discounts from './discounts.ts'
import me from './me.ts'
import onetimes from './onetimes.ts'
import orderNow from './order-now.ts'
import orders from './orders.ts'
import paymentMethods from './payment-methods.ts'
import portal from './portal.ts'
import retention from './retention.ts'
import subscriptionAddress from './subscription-address.ts'
import subscriptions from './subscriptions.ts'
import webhooks from './webhooks.ts'

/** Every HTTP route of the public contract, under /v1 (ops routes live in their plugins). */
export default async function routes(app: FastifyInstance): Promise<void> {
  await app.register(
    async (v1) => {
      await v1.register(me)
      await v1.register(portal)
      await v1.register(subscriptions)
      await v1.register(charges)
      await v1.register(onetimes)
      await v1.register(deliverySchedule)
      await v1.register(orders)
      await v1.register(addresses)
      await v1.register(paymentMethods)
      await v1.register(subscriptionAddress)
      await v1.register(retention)
      await v1.register(discounts)
      await v1.register(orderNow)
      await v1.register(checkouts)
      await v1.register(catalog)
      await v1.register(authShopify)
      await v1.register(appProxy)
      await v1.register(webhooks)
      await v1.register(admin)
      await v1.register(adminMirror)
      await v1.register(adminImports)
    },
    { prefix: '/v1' },
  )
  await app.register(demo)
}
