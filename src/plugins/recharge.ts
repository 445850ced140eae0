import fp from 'fastify-plugin'
import type { UpstreamBudget } from '../recharge/budget/budget.ts'
import type { RechargeClient } from '../recharge/client.ts'
import { createRecharge, rechargeOptionsFrom } from '../recharge/create.ts'
import { prometheusRechargeMetrics } from '../recharge/observability.ts'
import { FailoverGcra } from '../recharge/queue/failover-gcra.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** The typed Recharge client: every call goes through the shared rate-limit-aware queue. */
    recharge: RechargeClient
    /** Who may spend how much of the store's Recharge bucket (src/recharge/budget). */
    upstreamBudget: UpstreamBudget
  }
}

/**
 * Creates the Recharge layer for the app: the dispatcher (a Pool, or the injected `deps.rechargeDispatcher` with the
 * credentials interceptor composed onto it), the queue (shared GCRA in Redis when `app.redis`, in process
 * otherwise) and the client. On close it drains admitted calls, then closes the pool.
 */
export default fp(
  async function rechargePlugin(app) {
    const { config } = app
    const token = config.RECHARGE_API_TOKEN
    if (!token) {
      // Demo mode fills the simulator's token before buildApp; anything else is a wiring mistake.
      throw new Error('RECHARGE_API_TOKEN is required to build the Recharge client')
    }
    const log = app.log.child({ component: 'recharge' })
    const stack = createRecharge({
      ...rechargeOptionsFrom(config, token),
      redis: app.redis,
      dispatcher: app.deps.rechargeDispatcher,
      log,
      metrics: prometheusRechargeMetrics(app.metrics),
      tracer: app.tracing,
    })
    app.decorate('recharge', stack.client)
    app.decorate('upstreamBudget', stack.budget)

    app.readiness.add('recharge-queue', async () => {
      const degraded = stack.store instanceof FailoverGcra && stack.store.degraded
      // Degraded still serves (at a conservative share); readiness reports it without failing the replica.
      return {
        ok: true,
        detail: `${stack.queue.pending} calls in flight${degraded ? '; limiter degraded (in-process share)' : ''}`,
      }
    })

    app.addHook('onClose', async () => {
      await stack.close(config.SHUTDOWN_GRACE_MS)
    })
  },
  { name: 'recharge', dependencies: ['redis', 'metrics', 'health', 'tracing'] },
)
