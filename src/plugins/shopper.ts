import fp from 'fastify-plugin'
import { createChargeLock } from '../checkout/charge-lock.ts'
import { createShopperServices, type ShopperServices, type ShopperTuning } from '../shopper/service.ts'
import type { ShopperUpstream } from '../shopper/upstream.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** Shopper records (cached, ownership-checked), self-serve actions, policy and portal links. */
    shopperServices: ShopperServices
  }
}

declare module '../app.ts' {
  interface AppDeps {
    shopper?: ShopperTuning
  }
}

/** Wires the shopper service (src/shopper/service.ts) to the app's Redis, cache, Recharge client and catalog. */
export default fp(
  async function shopperPlugin(app) {
    const upstream = (): ShopperUpstream => {
      if (!app.hasDecorator('recharge')) throw new Error('the Recharge client is not available')
      return app.recharge
    }
    const services = createShopperServices({
      policyFile: app.config.POLICY_FILE,
      redisKeyPrefix: app.config.REDIS_KEY_PREFIX,
      redis: app.redis,
      cache: app.cache,
      log: app.log,
      upstream,
      catalog: () => (app.hasDecorator('catalog') ? app.catalog : undefined),
      tuning: app.deps.shopper,
      cursorSecret: app.config.CUSTOMER_TOKEN_SECRET,
      rereadAllowance: app.hasDecorator('upstreamBudget')
        ? (customerId, cost) => app.upstreamBudget.chargeShopperReread(customerId, cost)
        : undefined,
      metrics: app.hasDecorator('metrics') ? app.metrics : undefined,
      mirror: app.hasDecorator('mirror') ? app.mirror : null,
      orderNowLock: createChargeLock({
        redis: app.redis,
        prefix: `${app.config.REDIS_KEY_PREFIX}:${app.deps.shopper?.namespace ?? ''}order-now:`,
        onDegraded: (error) =>
          app.log.warn({ err: { message: (error as Error).message } }, 'order-now lock: Redis unavailable'),
      }),
    })
    app.decorate('shopperServices', services)
  },
  { name: 'shopper', dependencies: ['redis', 'cache'] },
)
