import { resolve } from 'node:path'
import fp from 'fastify-plugin'
import { type CatalogUpstream, createCatalogService } from '../catalog/service.ts'
import { CatalogSyncJobs } from '../catalog/sync/jobs.ts'
import { DEFAULT_STATE_FILE, FileSyncStateStore, RedisSyncStateStore } from '../catalog/sync/state-store.ts'
import type { CatalogDocuments, CatalogService } from '../catalog/types.ts'
import type { RechargeClient } from '../recharge/client.ts'
import { tokenFingerprint } from '../recharge/fingerprint.ts'

/** What tests and the CLI may inject (AppDeps is extended here, so app.ts need not know the catalog's options). */
export interface CatalogDeps {
  /** Extra namespace for the catalog's cache keys and sync state (tests isolate files sharing one Redis). */
  namespace?: string
  /** Checkpoint file when Redis is not configured (default ./.catalog-sync-state.json). */
  stateFile?: string
}

declare module '../app.ts' {
  interface AppDeps {
    catalog?: CatalogDeps
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The storefront catalog (CDN-shaped products, plans, discounted prices, settings), cached. */
    catalog: CatalogService & CatalogDocuments
    /** Catalog sync jobs (feed → Recharge products and plans), one writing sync per store at a time. */
    catalogSync: CatalogSyncJobs
  }
}

/** The store currency Recharge reports; a store without one (never seen in practice) prices in USD. */
export function catalogUpstream(recharge: RechargeClient): CatalogUpstream {
  return {
    products: recharge.products,
    plans: recharge.plans,
    async store(options) {
      const store = await recharge.store.get(options)
      return { currency: (store.currency ?? 'USD').toUpperCase(), name: store.name ?? '' }
    },
  }
}

export default fp(
  async function catalogPlugin(app) {
    const options = app.deps.catalog ?? {}
    // Entries are scoped to the store (token fingerprint): two stores sharing a Redis never see each other's catalog.
    const fingerprint = tokenFingerprint(app.config.RECHARGE_API_TOKEN ?? 'demo')
    const scope = options.namespace ? `${fingerprint}:${options.namespace}` : fingerprint
    app.decorate(
      'catalog',
      createCatalogService({
        cache: app.cache,
        upstream: catalogUpstream(app.recharge),
        scope,
        cursorSecret: app.config.CUSTOMER_TOKEN_SECRET,
      }),
    )

    const state = app.redis
      ? new RedisSyncStateStore(
          app.redis,
          `${app.config.REDIS_KEY_PREFIX}:{${fingerprint}}${options.namespace ? `:${options.namespace}` : ''}`,
        )
      : new FileSyncStateStore(resolve(options.stateFile ?? DEFAULT_STATE_FILE))
    const log = app.log.child({ component: 'catalog-sync' })
    const runs = app.metrics.counter('recharge_bridge_catalog_sync_runs_total', 'Catalog sync jobs by final state', [
      'state',
      'dry_run',
    ])
    const calls = app.metrics.counter(
      'recharge_bridge_catalog_sync_upstream_calls_total',
      'Upstream calls made by catalog syncs',
      ['kind'],
    )
    const jobs = new CatalogSyncJobs({
      invalidate: (tags) => app.cache.invalidateTags(tags),
      onFinish: (status) => {
        runs.inc({ state: status.state, dry_run: String(status.dryRun) })
        if (status.report) {
          calls.inc({ kind: 'read' }, status.report.calls.reads)
          calls.inc({ kind: 'write' }, status.report.calls.writes)
        }
      },
      transport: app.recharge.transport,
      state,
      leakRate: app.config.RECHARGE_LEAK_RATE,
      log: {
        info: (object, message) => log.info(object, message),
        warn: (object, message) => log.warn(object, message),
      },
    })
    app.decorate('catalogSync', jobs)
    app.addHook('onClose', async () => {
      await jobs.close()
    })
  },
  { name: 'catalog', dependencies: ['redis', 'metrics', 'cache', 'recharge'] },
)
