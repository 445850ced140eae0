import fp from 'fastify-plugin'
import { MirrorService, type MirrorTuning } from '../mirror/service.ts'
import { tokenFingerprint } from '../recharge/fingerprint.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** The webhook-fed account mirror (docs/mirror.md), or null when MIRROR=off. */
    mirror: MirrorService | null
  }
}

declare module '../app.ts' {
  interface AppDeps {
    mirror?: MirrorTuning
  }
}

/**
 * MIRROR=on: the account mirror in Redis. Every replica follows its state and reads it; the replica holding the lease
 * (any with background workers on) runs the sync. Registered before the shopper services, which read it first.
 */
export default fp(
  async function mirrorPlugin(app) {
    const redis = app.redis
    if (app.config.MIRROR !== 'on' || !redis) {
      app.decorate('mirror', null)
      return
    }
    const tuning = app.deps.mirror ?? {}
    // Scoped to the store (token fingerprint), like the catalog: two stores sharing a Redis never mix their shoppers.
    const fingerprint = tokenFingerprint(app.config.RECHARGE_API_TOKEN ?? 'demo')
    const log = app.log.child({ component: 'mirror' })
    const mirror = new MirrorService({
      redis,
      prefix: `${app.config.REDIS_KEY_PREFIX}:mirror:${fingerprint}`,
      transport: app.recharge.transport,
      reconcileMs: app.config.MIRROR_RECONCILE_SECONDS * 1000,
      sweepMs: app.config.MIRROR_SWEEP_SECONDS * 1000,
      tuning,
      metrics: app.metrics,
      log: {
        info: (object, message) => log.info(object, message),
        warn: (object, message) => log.warn(object, message),
      },
    })
    app.decorate('mirror', mirror)
    app.readiness.add('mirror', async () => ({ ok: true, detail: mirror.state }))
    app.addHook('onReady', async () => {
      mirror.start(tuning.sync ?? app.deps.backgroundWorkers !== false)
    })
    app.addHook('onClose', async () => {
      await mirror.stop()
    })
  },
  { name: 'mirror', dependencies: ['redis', 'metrics', 'recharge', 'health'] },
)
