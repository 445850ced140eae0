import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppDeps } from '../../src/app.ts'
import { uniquePrefix } from '../support/redis.ts'
import { type ShopperHarness, startShopperHarness } from '../support/shopper-harness.ts'
import { until } from '../support/until.ts'

/**
 * The mirror's background sync against the simulator over HTTP and a real Redis: reconciliation heals records whose
 * webhooks were lost (the simulator's drop rule), failing reconciliations put the mirror in `degraded`, and a leader
 * stopped mid-sync hands over to another replica, which goes on from the checkpoint instead of starting again.
 */
const clientSecret = 'sim_whsec_mirror_sync_0001'
const adminKey = 'test-admin-key-0123456789abcdef'
let h: ShopperHarness

function deps(namespace: string, overlapMs?: number, sweepMs?: number): Partial<AppDeps> {
  return {
    backgroundWorkers: true,
    webhooks: { keyPrefix: uniquePrefix('mirror-sync-webhooks'), watchdog: false },
    mirror: {
      namespace,
      tickMs: 50,
      statusMs: 50,
      leaseMs: 5_000,
      ...(overlapMs !== undefined ? { overlapMs } : {}),
      ...(sweepMs !== undefined ? { sweepMs } : {}),
    },
  }
}

function env(reconcileSeconds: number) {
  return { RECHARGE_WEBHOOK_SECRET: clientSecret, MIRROR: 'on', MIRROR_RECONCILE_SECONDS: String(reconcileSeconds) }
}

async function status(instance: FastifyInstance) {
  const response = await instance.inject({
    method: 'GET',
    url: '/v1/admin/mirror',
    headers: { authorization: `Bearer ${adminKey}` },
  })
  expect(response.statusCode).toBe(200)
  return response.json()
}

beforeAll(async () => {
  h = await startShopperHarness('mirs', { clientSecret, webhookAutoDeliver: false, seedCustomers: 600 })
})

afterAll(async () => {
  await h?.close()
})

describe('mirror reconciliation', () => {
  it('heals a record whose webhook was dropped, and goes degraded while reconciliation keeps failing', async () => {
    const app = await h.bridge(undefined, deps(`${h.namespace}rec-`, 1_000), env(1))
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    const created = await h.sim.api('POST', '/webhooks', {
      address: `${url}/v1/webhooks/recharge`,
      topic: 'subscription/updated',
    })
    expect(created.status).toBe(201)
    await until(async () => (await status(app)).state === 'ready', 60_000, 'mirror ready')

    const state = await h.sim.state()
    const subscription = state.subscriptions.find((row) => String(row.status).toLowerCase() === 'active') as {
      id: number
      customer_id: number
      quantity: number
    }
    const held = async () =>
      (await app.mirror?.store.account(String(subscription.customer_id)))?.subscriptions.find(
        (row) => row.id === String(subscription.id),
      )?.quantity
    expect(await held()).toBe(subscription.quantity)

    await h.sim.setWebhookFaults([{ dropShare: 1 }])
    const changed = await h.sim.api('PUT', `/subscriptions/${subscription.id}`, { quantity: subscription.quantity + 5 })
    expect(changed.status).toBe(200)
    await h.sim.deliverWebhooks()
    const dropped = await h.sim.webhookDeliveries({ dropped: true })
    expect(dropped.some((delivery) => delivery.topic === 'subscription/updated')).toBe(true)
    await h.sim.clearWebhookFaults()

    await until(async () => (await held()) === subscription.quantity + 5, 30_000, 'reconciliation healed the record')
    expect((await status(app)).state).toBe('ready')

    // Reconciliation failing again and again: degraded, and reads fall back; back to ready once it completes.
    await h.sim.setFaults([{ match: { method: 'GET', path: '/addresses' }, status: 422 }])
    await until(async () => (await status(app)).state === 'degraded', 30_000, 'mirror degraded')
    expect(await app.mirror?.account(String(subscription.customer_id))).toBeNull()
    await h.sim.clearFaults()
    await until(async () => (await status(app)).state === 'ready', 30_000, 'mirror ready again')
    await app.close()
  })
})

describe('mirror sweep', () => {
  it('drops a subscription and a customer whose deletion webhooks were lost, and nothing else', async () => {
    // No webhook is registered: every deletion below is lost, and reconciliation (an hour away) would not see it.
    const app = await h.bridge(undefined, deps(`${h.namespace}sweep-`, 1_000, 2_000), env(3600))
    await until(async () => (await status(app)).state === 'ready', 60_000, 'mirror ready')
    const mirror = app.mirror
    if (!mirror) throw new Error('mirror off')
    const state = await h.sim.state()
    const active = state.subscriptions.filter((row) => String(row.status).toLowerCase() === 'active') as {
      id: number
      customer_id: number
    }[]
    const owner = active.find((row) => active.some((other) => other.customer_id === row.customer_id && other !== row))
    if (!owner) throw new Error('no customer with two active subscriptions')
    const kept = active.find((row) => row.customer_id === owner.customer_id && row !== owner) as { id: number }
    const leaving = state.customers.find(
      (row) => row.id !== owner.customer_id && !active.some((sub) => sub.customer_id === row.id),
    ) as { id: number }
    const held = async (customerId: number) => (await mirror.store.account(String(customerId)))?.subscriptions ?? null

    expect((await held(owner.customer_id))?.map((row) => row.id)).toContain(String(owner.id))
    expect(await mirror.store.account(String(leaving.id))).not.toBeNull()
    expect((await h.sim.api('DELETE', `/subscriptions/${owner.id}`)).status).toBe(204)
    expect((await h.sim.api('DELETE', `/customers/${leaving.id}`)).status).toBe(204)

    await until(
      async () => !(await held(owner.customer_id))?.some((row) => row.id === String(owner.id)),
      60_000,
      'the sweep dropped the subscription',
    )
    await until(async () => (await mirror.store.account(String(leaving.id))) === null, 60_000, 'customer forgotten')
    expect((await held(owner.customer_id))?.map((row) => row.id)).toContain(String(kept.id))
    // Nothing else left: the mirror holds what Recharge lists.
    const after = await h.sim.state()
    const figures = await status(app)
    expect(figures.customers).toBe(after.customers.length)
    expect(figures.subscriptions).toBe(after.subscriptions.length)
    await app.close()
  })
})

describe('mirror lease', () => {
  it('a leader stopped mid-sync hands over: the other replica finishes from the checkpoint', async () => {
    const namespace = `${h.namespace}lease-`
    // The first replica's first page of subscriptions (the third list) is held until the replica is closed.
    await h.sim.setFaults([{ match: { method: 'GET', path: '^/subscriptions$' }, gate: 'mirror', count: 1 }])
    const since = await h.ledgerLength()
    const first = await h.bridge(undefined, deps(namespace), env(3600))
    await until(async () => (await h.sim.heldAt('mirror')) === 1, 60_000, 'first leader at subscriptions')
    expect(first.mirror?.sync.isLeader).toBe(true)
    await first.close()

    const second = await h.bridge(undefined, deps(namespace), env(3600))
    await until(async () => (await status(second)).state === 'ready', 60_000, 'second replica finished the pass')
    expect(second.mirror?.sync.isLeader).toBe(true)
    await h.sim.clearFaults()

    // Customers and addresses were listed once in all, by the first leader: the second resumed at subscriptions.
    const lists = (await h.sim.ledger()).slice(since).filter((entry) => entry.method === 'GET')
    const firstPages = (path: string) => lists.filter((entry) => entry.path === path && !entry.query.cursor).length
    expect(firstPages('/customers')).toBe(1)
    expect(firstPages('/addresses')).toBe(1)
    expect(firstPages('/subscriptions')).toBe(2)

    const state = await h.sim.state()
    const figures = await status(second)
    expect(figures.customers).toBe(state.customers.length)
    expect(figures.subscriptions).toBe(state.subscriptions.length)
    await second.close()
  })

  it('a leader that lost its lease stops: no checkpoint written over the new holder, and it waits its turn', async () => {
    const namespace = `${h.namespace}lost-`
    await h.sim.setFaults([{ match: { method: 'GET', path: '^/addresses$' }, gate: 'lost', count: 1 }])
    const leader = await h.bridge(undefined, deps(namespace), env(3600))
    const sync = leader.mirror?.sync
    if (!sync) throw new Error('mirror off')
    await until(async () => (await h.sim.heldAt('lost')) === 1, 60_000, 'leader at addresses')
    const checkpoint = await h.redis.hGet(sync.stateKey, 'pass')
    expect(JSON.parse(checkpoint ?? '{}')).toMatchObject({ kind: 'full', step: 1, cursor: null })

    // Another replica holds the lease now (this one's expired during a pause, say).
    await h.redis.set(sync.leaseKey, 'another-replica', { PX: 60_000 })
    await h.sim.openGate('lost')
    await until(() => !sync.isLeader, 15_000, 'leader stepped down')
    expect(await h.redis.hGet(sync.stateKey, 'pass')).toBe(checkpoint)
    expect(await h.redis.get(sync.leaseKey)).toBe('another-replica')

    // The other replica is gone (its lease deleted): this one takes over and finishes from the checkpoint.
    await h.sim.clearFaults()
    await h.redis.del(sync.leaseKey)
    await until(async () => (await status(leader)).state === 'ready', 60_000, 'mirror ready')
    await leader.close()
  })
})
