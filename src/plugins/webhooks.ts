import fp from 'fastify-plugin'
import { WebhookService } from '../webhooks/service.ts'

declare module 'fastify' {
  interface FastifyInstance {
    webhooks: WebhookService
  }
}

/**
 * Webhook intake state and workers. The service always exists (the intake route needs its queue); the consumers and
 * the registration watchdog start only when background workers are on, and stop on close after draining.
 */
export default fp(
  async function webhooksPlugin(app) {
    const service = new WebhookService(app, app.deps.webhooks)
    app.decorate('webhooks', service)

    if (!app.config.RECHARGE_WEBHOOK_SECRET) {
      app.readiness.add('webhooks', async () => ({
        ok: true,
        detail:
          'disabled: RECHARGE_WEBHOOK_SECRET is unset, deliveries are refused with 503 and caches expire by TTL only',
      }))
    } else if (service.watchdog) {
      const watchdog = service.watchdog
      // Reported, never failed: an unready verdict would pull every replica out of the load balancer over something
      // that does not stop them serving (caches still expire by TTL). Alert on recharge_bridge_webhook_topics_missing instead.
      app.readiness.add('webhooks', async () => {
        const state = watchdog.state
        if (!state.checkedAt) return { ok: true, detail: 'registration not checked yet' }
        if (state.error) return { ok: true, detail: `degraded: registration check failed: ${state.error}` }
        if (state.missing.length > 0) {
          return {
            ok: true,
            detail: `degraded: ${state.missing.length} topic(s) not registered: ${state.missing.join(', ')}`,
          }
        }
        const repaired = state.repaired.length > 0 ? `; re-registered ${state.repaired.join(', ')}` : ''
        return { ok: true, detail: `registered (checked ${state.checkedAt}${repaired})` }
      })
    }

    // Without a secret no delivery can be accepted, so there is nothing to consume.
    if (app.deps.backgroundWorkers === false || !app.config.RECHARGE_WEBHOOK_SECRET) return
    app.addHook('onReady', async () => {
      await service.start()
    })
    // onClose runs after in-flight requests finished (every acknowledged delivery is queued by then) and, hooks running
    // in reverse registration order, before the cache and Redis plugins close: drain while they still work.
    app.addHook('onClose', async () => {
      await service.stop()
    })
  },
  { name: 'webhooks', dependencies: ['redis', 'metrics', 'health'] },
)
