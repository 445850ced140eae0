import type { FastifyInstance } from 'fastify'
import { processDueCharges } from '../billing.ts'
import type { Simulator } from '../context.ts'
import { validateRules } from '../faults.ts'
import { retryFailedCharges } from '../retries.ts'
import { customerView, queuedSubscriptionIds, subscriptionCounts, subscriptionView } from '../views.ts'
import { validateDropRules } from '../webhooks/drops.ts'

/**
 * The control API for tests, demos and benchmarks (never under the Recharge token check, never in the ledger):
 * reset, ledger, faults and their gates, webhook flushing, state dump and clock.
 */
export async function controlRoutes(app: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  app.post('/__sim/reset', async () => {
    sim.reset()
    return { ok: true }
  })

  app.get('/__sim/requests', async (request) => {
    const query = request.query as Record<string, string | undefined>
    const status = query.status === undefined ? undefined : Number(query.status)
    return {
      requests: sim.ledger.list({ method: query.method, path: query.path, status }),
      recorded: sim.ledger.recorded,
    }
  })

  app.delete('/__sim/requests', async () => {
    sim.ledger.clear()
    return { ok: true }
  })

  app.get('/__sim/faults', async () => ({ rules: sim.faults.list() }))

  app.post('/__sim/faults', async (request, reply) => {
    const rules = validateRules(request.body)
    if (typeof rules === 'string') return reply.code(400).send({ error: rules })
    sim.faults.set(rules)
    sim.gates.clear()
    return { rules: sim.faults.list() }
  })

  app.delete('/__sim/faults', async () => {
    sim.faults.clear()
    sim.gates.clear()
    return { rules: [] }
  })

  app.get('/__sim/gates', async () => ({ gates: sim.gates.list() }))

  app.post('/__sim/gates/:name/open', async (request) => {
    const { name } = request.params as { name: string }
    return { name, released: sim.gates.open(name) }
  })

  app.post('/__sim/webhooks/deliver', async () => {
    const deliveries = await sim.webhooks.flush()
    return { deliveries, pending: sim.webhooks.pendingCount }
  })

  app.get('/__sim/webhooks/deliveries', async (request) => {
    const { dropped } = request.query as Record<string, string | undefined>
    return {
      deliveries: sim.webhooks.log(dropped === undefined ? {} : { dropped: dropped === 'true' || dropped === '1' }),
      pending: sim.webhooks.pendingCount,
    }
  })

  app.get('/__sim/webhooks/faults', async () => sim.webhookDrops.list())

  app.post('/__sim/webhooks/faults', async (request, reply) => {
    const rules = validateDropRules(request.body)
    if (typeof rules === 'string') return reply.code(400).send({ error: rules })
    sim.webhookDrops.set(rules)
    return sim.webhookDrops.list()
  })

  app.delete('/__sim/webhooks/faults', async () => {
    sim.webhookDrops.clear()
    return sim.webhookDrops.list()
  })

  app.post('/__sim/clock', async (request) => {
    const body = (request.body ?? {}) as { advanceMs?: unknown; frozen?: unknown }
    if (body.frozen === true) sim.clock.freeze()
    if (body.frozen === false) sim.clock.unfreeze()
    let processedCharges: number[] = []
    if (typeof body.advanceMs === 'number' && Number.isFinite(body.advanceMs)) {
      sim.clock.advance(body.advanceMs)
      // Moving time forward bills whatever fell due, like Recharge's scheduler would have.
      if (body.advanceMs > 0) processedCharges = [...processDueCharges(sim.state), ...retryFailedCharges(sim.state)]
    }
    return {
      now: new Date(sim.clock.now()).toISOString(),
      frozen: sim.clock.frozen,
      processed_charges: processedCharges,
    }
  })

  app.get('/__sim/notifications', async (request) => {
    const customerId = Number((request.query as Record<string, string | undefined>).customer_id)
    const all = sim.state.notifications
    return { notifications: Number.isSafeInteger(customerId) ? all.filter((n) => n.customer_id === customerId) : all }
  })

  app.get('/__sim/state', async () => {
    const state = sim.state
    const now = sim.clock.now()
    const counts = subscriptionCounts(state)
    const queued = queuedSubscriptionIds(state)
    return {
      now: new Date(now).toISOString(),
      store: state.store,
      customers: [...state.customers.values()].map((customer) => customerView(state, customer, counts)),
      addresses: [...state.addresses.values()],
      payment_methods: [...state.paymentMethods.values()],
      subscriptions: [...state.subscriptions.values()].map((subscription) =>
        subscriptionView(state, subscription, queued),
      ),
      onetimes: [...state.onetimes.values()],
      charges: [...state.charges.values()],
      orders: [...state.orders.values()],
      products: [...state.products.values()],
      plans: [...state.plans.values()],
      checkouts: [...state.checkouts.values()],
      webhooks: [...state.webhooks.values()],
      async_batches: [...state.asyncBatches.values()],
      discounts: [...state.storeDiscounts.values()],
      retention_strategies: [...state.retentionStrategies.values()],
      subscription_pauses: [...state.pauses.values()],
      notifications: state.notifications,
      buckets: sim.options.apiTokens.map((token, index) => ({
        token_index: index,
        used: sim.buckets.peek(token, now),
        size: sim.buckets.size,
      })),
    }
  })
}
