import type { FastifyInstance } from 'fastify'
import type { CatalogService } from '../catalog/types.ts'
import { ShopperActions } from './actions.ts'
import { loadPolicy, type Policy } from './policy.ts'
import { MemoryPortalLinkStore, type PortalLinkStore, RedisPortalLinkStore } from './portal-links.ts'
import { ShopperRecords } from './records.ts'
import type { ShopperUpstream } from './upstream.ts'
import { DEFAULT_WRITES_PER_MINUTE, ShopperWriteLimit } from './write-limit.ts'

/** Everything the shopper routes use, built once per app by the auth plugin. */
export interface ShopperServices {
  policy: Policy
  records: ShopperRecords
  actions: ShopperActions
  portalLinks: PortalLinkStore
  upstream: () => ShopperUpstream
}

export function createShopperServices(app: FastifyInstance): ShopperServices {
  const policy = loadPolicy(app.config.POLICY_FILE)
  // Resolved on use: the Recharge client and the catalog are decorated by plugins of their own.
  const upstream = (): ShopperUpstream => {
    if (!app.hasDecorator('recharge')) throw new Error('the Recharge client is not available')
    return app.recharge
  }
  const catalog = (): CatalogService | undefined => (app.hasDecorator('catalog') ? app.catalog : undefined)
  const namespace = app.deps.shopper?.namespace ?? ''
  const rereadAllowance = app.hasDecorator('upstreamBudget')
    ? (customerId: string, cost: number) => app.upstreamBudget.chargeShopperReread(customerId, cost)
    : undefined
  const records = new ShopperRecords(app.cache, upstream, namespace, rereadAllowance, app.deps.shopper?.rereadAfterMs)
  const writeLimit = new ShopperWriteLimit({
    redis: app.redis,
    log: app.log,
    limit: app.deps.shopper?.writesPerMinute ?? DEFAULT_WRITES_PER_MINUTE,
    prefix: `${app.config.REDIS_KEY_PREFIX}:${namespace}shopper-writes:`,
  })
  const actions = new ShopperActions({ records, upstream, catalog, policy, writeLimit })
  const portalLinks = app.redis
    ? new RedisPortalLinkStore(app.redis, app.log, `${app.config.REDIS_KEY_PREFIX}:${namespace}portal-link:`)
    : new MemoryPortalLinkStore()
  return { policy, records, actions, portalLinks, upstream }
}
