import fp from 'fastify-plugin'
import { MemoryImportRunStore } from '../import/memory-run-store.ts'
import { importMetrics } from '../import/metrics.ts'
import { RedisImportRunStore } from '../import/redis-run-store.ts'
import { ImportRuns } from '../import/runner.ts'
import { tokenFingerprint } from '../recharge/fingerprint.ts'

/** What tests and the CLI may tune (AppDeps is extended here, so app.ts need not know the import's options). */
export interface ImportDeps {
  /** Extra namespace for run keys (tests isolate files sharing one Redis). */
  namespace?: string
  /** Lease time of a run (takeover after a replica dies). Default 15 s. */
  leaseMs?: number
  /** Records in flight per run. Default 4. */
  concurrency?: number
}

declare module '../app.ts' {
  interface AppDeps {
    imports?: ImportDeps
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Import runs (externally paid orders → Recharge customers, payment methods, addresses, subscriptions). */
    imports: ImportRuns
  }
}

export default fp(
  async function importsPlugin(app) {
    const options = app.deps.imports ?? {}
    const fingerprint = tokenFingerprint(app.config.RECHARGE_API_TOKEN ?? 'demo')
    const store = app.redis
      ? new RedisImportRunStore(
          app.redis,
          `${app.config.REDIS_KEY_PREFIX}:${fingerprint}${options.namespace ? `:${options.namespace}` : ''}`,
        )
      : new MemoryImportRunStore()
    const log = app.log.child({ component: 'import' })
    const runs = new ImportRuns({
      store,
      transport: app.recharge.transport,
      saga: {
        catalog: app.catalog,
        allowPriceOverride: app.shopperServices.policy.imports.allow_price_override,
        now: () => Date.now(),
        knownCustomer: (reference) => (app.mirror ? app.mirror.customerIdFor(reference) : Promise.resolve(null)),
        knowsEveryCustomer: () => app.mirror?.state === 'ready',
      },
      metrics: importMetrics(app.metrics),
      log: {
        info: (object, message) => log.info(object, message),
        warn: (object, message) => log.warn(object, message),
      },
      ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}),
      ...(options.concurrency ? { concurrency: options.concurrency } : {}),
      watch: app.deps.backgroundWorkers !== false,
    })
    app.decorate('imports', runs)
    app.addHook('onReady', async () => runs.start())
    app.addHook('onClose', async () => runs.close())
  },
  { name: 'imports', dependencies: ['redis', 'metrics', 'recharge', 'catalog', 'shopper', 'mirror'] },
)
