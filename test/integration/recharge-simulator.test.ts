import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createRedisClient, type RedisClient } from '../../src/infra/redis.ts'
import { createRecharge, type RechargeStack } from '../../src/recharge/create.ts'
import {
  RechargeConflictError,
  RechargeRateLimitedError,
  RechargeTimeoutError,
  RechargeUnavailableError,
} from '../../src/recharge/errors.ts'
import type { FailoverGcra } from '../../src/recharge/queue/failover-gcra.ts'
import { DisposableRedis } from '../../tools/redis-server.ts'
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'
import { until } from '../support/until.ts'

/**
 * The client + queue against the simulator over HTTP and the real Redis: what a merchant relies on when Recharge
 * pushes back (429, 5xx, 409) and when several replicas share one token.
 */
const TOKEN = 'sk_test_client_suite'
const prefix = uniquePrefix('recharge-sim')
let redis: RedisClient
let sim: TestSimulator
let url: string
const stacks: RechargeStack[] = []

interface Seed {
  customers: { id: number; email: string; external_customer_id: { ecommerce: string | null } }[]
  addresses: { id: number; customer_id: number }[]
  subscriptions: { id: number; address_id: number; customer_id: number; status: string }[]
  charges: { id: number; address_id: number; status: string }[]
}

const ledger = (path?: string) => sim.ledger(path ? { path } : {})

function stack(options: { name: string; bucketSize?: number; leakRate?: number; safety?: number }): RechargeStack {
  const created = createRecharge({
    baseUrl: url,
    token: TOKEN,
    apiVersion: '2021-11',
    bucketSize: options.bucketSize ?? 40,
    leakRate: options.leakRate ?? 2,
    redis,
    keyPrefix: `${prefix}:${options.name}`,
    ...(options.safety === undefined ? {} : { safety: options.safety }),
  })
  stacks.push(created)
  return created
}

let seed: Seed

beforeAll(async () => {
  redis = await connectRedis()
  // A time-compressed bucket (40 calls, 20/s), as in the benchmark; each stack books at most this fast.
  sim = await startTestSimulator({
    apiTokens: [TOKEN],
    bucketSize: 40,
    leakRate: 20,
    webhookAutoDeliver: false,
    addressWriteWindowMs: 150,
  })
  url = sim.url
  seed = (await sim.state()) as unknown as Seed
})

afterEach(async () => {
  await sim.clearFaults()
  await sim.reset()
})

afterAll(async () => {
  await Promise.all(stacks.map((s) => s.close(1_000)))
  await sim.close()
  await deleteKeys(redis, `${prefix}*`)
  await redis.close()
})

describe('typed resources against the simulator', () => {
  it('reads every resource the routes need, parsed leniently', async () => {
    const { client } = stack({ name: 'reads', leakRate: 20 })
    const customer = seed.customers[0]
    if (!customer) throw new Error('seed has no customer')
    const byEmail = await client.customers.findByEmail(customer.email)
    expect(byEmail?.id).toBe(String(customer.id))
    if (customer.external_customer_id.ecommerce) {
      const byExternal = await client.customers.findByExternalId(customer.external_customer_id.ecommerce)
      expect(byExternal?.id).toBe(String(customer.id))
    }
    const id = String(customer.id)
    expect((await client.customers.get(id)).email).toBe(customer.email)
    const schedule = await client.customers.deliverySchedule(id)
    expect(schedule.customer.id).toBe(id)
    const addresses = await client.addresses.list({ customer_id: id })
    expect(addresses.items.length).toBeGreaterThan(0)
    // The bridge's schemas do not read customer_id: ask for it alone to check the simulator's filter.
    const ownerOf = (path: string, key: string) =>
      client.transport.send({
        method: 'GET',
        path,
        schema: z.object({ [key]: z.object({ customer_id: z.number() }) }).transform((body) => body[key]?.customer_id),
      })
    expect(String(await ownerOf(`/addresses/${addresses.items[0]?.id}`, 'address'))).toBe(id)
    const subscriptions = await client.subscriptions.list({ customer_id: id, status: 'active' })
    expect(subscriptions.items.length).toBeGreaterThan(0)
    expect(String(await ownerOf(`/subscriptions/${subscriptions.items[0]?.id}`, 'subscription'))).toBe(id)
    const charges = await client.charges.list({ customer_id: id, status: 'queued' })
    for (const charge of charges.items) expect(charge.status).toBe('queued')
    await client.orders.list({ customer_id: id })
    await client.onetimes.list({ customer_id: id })
    const methods = await client.paymentMethods.list({ customer_id: id })
    expect(JSON.stringify(methods)).not.toMatch(/processor_(customer|payment_method)_token/)
    expect((await client.store.get()).currency).toBeTruthy()
    await client.tokenInformation.get()
    expect(await client.customers.findByEmail('nobody@example.invalid')).toBeNull()
  })

  it('writes a subscription and reads the change back', async () => {
    const { client } = stack({ name: 'writes', leakRate: 20 })
    const subscription = seed.subscriptions.find((s) => s.status === 'active')
    if (!subscription) throw new Error('seed has no active subscription')
    const updated = await client.subscriptions.update(
      String(subscription.id),
      { quantity: 3 },
      { addressId: subscription.address_id },
    )
    expect(updated.quantity).toBe(3)
    const cancelled = await client.subscriptions.cancel(
      String(subscription.id),
      { cancellation_reason: 'too much coffee' },
      { addressId: subscription.address_id },
    )
    expect(cancelled.status).toBe('cancelled')
    const active = await client.subscriptions.activate(String(subscription.id), { addressId: subscription.address_id })
    expect(active.status).toBe('active')
  })
})

describe('queue behaviour against the simulator', () => {
  it('absorbs an upstream 429: the call succeeds later and the caller never sees it', async () => {
    const { client } = stack({ name: 'absorb', leakRate: 20 })
    await sim.setFaults([{ match: { method: 'GET', path: '/store' }, status: 429, count: 2 }])
    const store = await client.store.get({ deadlineMs: 5_000 })
    expect(store.currency).toBeTruthy()
    const calls = await ledger('/store')
    expect(calls.map((call) => call.status)).toEqual([429, 429, 200])
  })

  it('absorbs a real bucket overflow caused by another consumer of the token', async () => {
    // Another app spends the whole bucket behind our back.
    for (let i = 0; i < 40; i++) {
      await fetch(`${url}/store`, { headers: sim.headers })
    }
    const { client } = stack({ name: 'other-consumer', leakRate: 20 })
    const store = await client.store.get({ deadlineMs: 5_000 })
    expect(store.currency).toBeTruthy()
    const statuses = (await ledger('/store')).map((call) => call.status)
    expect(statuses.filter((status) => status === 200).length).toBe(41)
    // At most one of ours met the full bucket before the penalty made the queue wait.
    expect(statuses.filter((status) => status === 429).length).toBeLessThanOrEqual(1)
  })

  it('never re-sends a write that met a 5xx (the ledger shows one call)', async () => {
    const { client } = stack({ name: 'no-replay', leakRate: 20 })
    const subscription = seed.subscriptions[0]
    if (!subscription) throw new Error('seed has no subscription')
    await sim.setFaults([{ match: { method: 'PUT', path: '/subscriptions/' }, status: 503 }])
    const error = await client.subscriptions
      .update(String(subscription.id), { quantity: 2 }, { addressId: subscription.address_id })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RechargeUnavailableError)
    expect((error as RechargeUnavailableError).toAppError().status).toBe(502)
    expect((await ledger(`/subscriptions/${subscription.id}`)).filter((c) => c.method === 'PUT')).toHaveLength(1)
  })

  it('retries a read that met a 5xx and then succeeds', async () => {
    const { client } = stack({ name: 'read-retry', leakRate: 20 })
    await sim.setFaults([{ match: { method: 'GET', path: '/store' }, status: 502, count: 1 }])
    await client.store.get()
    expect((await ledger('/store')).map((call) => call.status)).toEqual([502, 200])
  })

  it('retries a read whose body came back truncated or malformed', async () => {
    const { client } = stack({ name: 'read-corrupt', leakRate: 20 })
    await sim.setFaults([
      { match: { method: 'GET', path: '/store' }, truncate: true, count: 1 },
      { match: { method: 'GET', path: '/token_information' }, malformed: true, count: 1 },
    ])
    expect((await client.store.get()).currency).toBeTruthy()
    await client.tokenInformation.get()
    expect((await ledger('/store')).length).toBe(2)
    expect((await ledger('/token_information')).length).toBe(2)
  })

  it('gives up on a hanging Recharge at the deadline with a 504, and does not re-send the write', async () => {
    const { client } = stack({ name: 'hang', leakRate: 20 })
    const subscription = seed.subscriptions[0]
    if (!subscription) throw new Error('seed has no subscription')
    await sim.setFaults([{ match: { method: 'PUT', path: '/subscriptions/' }, hang: true }])
    const error = await client.subscriptions
      .update(String(subscription.id), { quantity: 2 }, { addressId: subscription.address_id, deadlineMs: 500 })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RechargeTimeoutError)
    expect((error as RechargeTimeoutError).toAppError()).toMatchObject({ status: 504, code: 'UPSTREAM_TIMEOUT' })
    expect((await ledger(`/subscriptions/${subscription.id}`)).filter((c) => c.method === 'PUT')).toHaveLength(1)
  })

  it('serialises concurrent writes under one address: no 409 reaches Recharge', async () => {
    const { client } = stack({ name: 'address-lock', leakRate: 20 })
    const subscription = seed.subscriptions.find((s) => s.status === 'active')
    if (!subscription) throw new Error('seed has no active subscription')
    const writes = [1, 2, 3, 4].map((quantity) =>
      client.subscriptions.update(String(subscription.id), { quantity }, { addressId: subscription.address_id }),
    )
    await Promise.all(writes)
    const statuses = (await ledger(`/subscriptions/${subscription.id}`)).map((call) => call.status)
    expect(statuses).toEqual([200, 200, 200, 200])
  })

  it('without the address, the same concurrent writes do collide (the lock is what prevents it)', async () => {
    const { client } = stack({ name: 'no-lock', leakRate: 20 })
    const subscription = seed.subscriptions.find((s) => s.status === 'active')
    if (!subscription) throw new Error('seed has no active subscription')
    const results = await Promise.allSettled(
      [1, 2, 3].map((quantity) => client.subscriptions.update(String(subscription.id), { quantity })),
    )
    const conflicts = results.filter((r) => r.status === 'rejected' && r.reason instanceof RechargeConflictError)
    expect(conflicts.length).toBeGreaterThan(0)
    expect((conflicts[0] as PromiseRejectedResult).reason.toAppError().status).toBe(409)
  })

  it('rejects at admission with Retry-After when the deadline cannot be met', async () => {
    const { client } = stack({ name: 'deadline', bucketSize: 5, leakRate: 0.5 })
    await Promise.all([1, 2, 3, 4].map(() => client.store.get()))
    const error = await client.store.get({ deadlineMs: 1_000 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RechargeRateLimitedError)
    const problem = (error as RechargeRateLimitedError).toAppError()
    expect(problem.status).toBe(503)
    expect(problem.code).toBe('UPSTREAM_BUSY')
    expect(problem.retryAfter).toBeGreaterThanOrEqual(1)
    expect(Number.isInteger(problem.retryAfter)).toBe(true)
    // Nothing was sent for the refused call.
    expect(await ledger('/store')).toHaveLength(4)
  })

  it('two queue instances on one Redis share one budget: a burst of twice the bucket meets no 429', async () => {
    // A wider safety margin than the default: on a loaded 2-core box an event-loop stall while the initial burst is
    // being dispatched releases it together with the next booked sends, which a time-compressed bucket (50 ms per
    // call) cannot absorb. The point here is the shared book, not the margin.
    const a = stack({ name: 'shared-budget', bucketSize: 40, leakRate: 20, safety: 8 })
    const b = stack({ name: 'shared-budget', bucketSize: 40, leakRate: 20, safety: 8 })
    const calls = Array.from({ length: 80 }, (_, i) => (i % 2 === 0 ? a : b).client.store.get({ deadlineMs: 10_000 }))
    await Promise.all(calls)
    const statuses = (await ledger('/store')).map((call) => call.status)
    expect(statuses.filter((status) => status !== 200)).toEqual([])
    expect(statuses).toHaveLength(80)
  })

  it('separate budgets (as two processes without Redis would have) do overflow the same burst', async () => {
    const a = createRecharge({ baseUrl: url, token: TOKEN, apiVersion: '2021-11', bucketSize: 40, leakRate: 20 })
    const b = createRecharge({ baseUrl: url, token: TOKEN, apiVersion: '2021-11', bucketSize: 40, leakRate: 20 })
    stacks.push(a, b)
    await Promise.all(
      Array.from({ length: 80 }, (_, i) => (i % 2 === 0 ? a : b).client.store.get({ deadlineMs: 10_000 })),
    )
    const statuses = (await ledger('/store')).map((call) => call.status)
    // Every call still succeeds (429s are absorbed), but only the shared book avoids them.
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThan(0)
  })

  it('keeps serving while Redis is down (in-process share) and shares again once it is back', async () => {
    const server = await DisposableRedis.start()
    const client = createRedisClient(server.url, 'recharge-sim-failover')
    client.on('error', () => {})
    await client.connect()
    const created = createRecharge({
      baseUrl: url,
      token: TOKEN,
      apiVersion: '2021-11',
      bucketSize: 40,
      leakRate: 20,
      redis: client,
      keyPrefix: `${prefix}:failover`,
    })
    stacks.push(created)
    const subscription = seed.subscriptions.find((s) => s.status === 'active')
    if (!subscription) throw new Error('seed has no active subscription')
    await created.client.store.get()
    await server.stop()
    await created.client.store.get()
    await created.client.subscriptions.update(
      String(subscription.id),
      { quantity: 2 },
      { addressId: subscription.address_id },
    )
    expect((created.store as FailoverGcra).degraded).toBe(true)
    await server.restart()
    for (let i = 0; i < 100 && !client.isReady; i++) await new Promise((resolve) => setTimeout(resolve, 50))
    // The fallback retries Redis after a pause of its own; calls keep going until one is booked in Redis again.
    await until(async () => {
      await created.client.store.get()
      return !(created.store as FailoverGcra).degraded
    })
    expect((created.store as FailoverGcra).degraded).toBe(false)
    client.destroy()
    await server.stop()
  })
})
