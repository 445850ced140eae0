import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

let sim: TestSimulator
let subscriptionId: number

// A long address write window so the concurrent-write test always overlaps on a loaded machine.
beforeAll(async () => {
  sim = await startTestSimulator({ addressWriteWindowMs: 300 })
})
afterAll(async () => {
  await sim.close()
})
beforeEach(async () => {
  await sim.reset()
  const state = await sim.state()
  subscriptionId = (state.subscriptions.find((sub) => sub.status === 'active') as { id: number }).id
})

function request(method: string, path: string, body?: unknown, signal?: AbortSignal) {
  return fetch(`${sim.url}${path}`, {
    method,
    headers: { ...sim.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  })
}

async function quantity(): Promise<number> {
  const state = await sim.state()
  return (state.subscriptions.find((sub) => sub.id === subscriptionId) as { quantity: number }).quantity
}

describe('fault injection', () => {
  it('answers an injected status with a Recharge-shaped body, does not process the request, and honours count', async () => {
    await sim.setFaults([{ match: { method: 'PUT', path: '/subscriptions/' }, status: 503, count: 1 }])
    const before = await quantity()
    const failed = await request('PUT', `/subscriptions/${subscriptionId}`, { quantity: before + 5 })
    expect(failed.status).toBe(503)
    expect(await failed.json()).toEqual({ errors: expect.any(String) })
    expect(await quantity()).toBe(before)
    const retried = await request('PUT', `/subscriptions/${subscriptionId}`, { quantity: before + 5 })
    expect(retried.status).toBe(200)
    expect(await quantity()).toBe(before + 5)
  })

  it('matches by method and by regular expression', async () => {
    await sim.setFaults([
      { match: { method: 'GET', path: '^/subscriptions/\\d+$' }, status: 500, body: { errors: 'boom' } },
    ])
    expect((await request('GET', `/subscriptions/${subscriptionId}`)).status).toBe(500)
    expect((await request('GET', '/subscriptions')).status).toBe(200)
    await sim.clearFaults()
    expect((await request('GET', `/subscriptions/${subscriptionId}`)).status).toBe(200)
  })

  it('hang: never answers and leaves an unanswered ledger entry', async () => {
    await sim.setFaults([{ match: { path: '/store' }, hang: true, count: 1 }])
    await expect(request('GET', '/store', undefined, AbortSignal.timeout(300))).rejects.toThrow()
    expect(await sim.ledger({ path: '/store' })).toEqual([expect.objectContaining({ status: null })])
    expect((await request('GET', '/store')).status).toBe(200)
  })

  it('gate: holds the request unprocessed until the gate is opened, then processes and answers it', async () => {
    await sim.setFaults([{ match: { method: 'PUT', path: '/subscriptions/' }, gate: 'write', count: 1 }])
    const before = await quantity()
    const held = request('PUT', `/subscriptions/${subscriptionId}`, { quantity: before + 2 })
    await expect.poll(() => sim.heldAt('write')).toBe(1)
    expect(await quantity()).toBe(before)
    await sim.openGate('write')
    expect((await held).status).toBe(200)
    expect(await quantity()).toBe(before + 2)
    expect(await sim.heldAt('write')).toBe(0)
  })

  it('gate: clearing the rules releases what a gate holds', async () => {
    await sim.setFaults([{ match: { path: '/store' }, gate: 'store' }])
    const held = request('GET', '/store')
    await expect.poll(() => sim.heldAt('store')).toBe(1)
    await sim.clearFaults()
    expect((await held).status).toBe(200)
  })

  it('malformed: processes the write but answers 200 with a body that is not JSON', async () => {
    await sim.setFaults([{ match: { path: '/subscriptions/' }, malformed: true, count: 1 }])
    const before = await quantity()
    const response = await request('PUT', `/subscriptions/${subscriptionId}`, { quantity: before + 1 })
    expect(response.status).toBe(200)
    const text = await response.text()
    expect(() => JSON.parse(text)).toThrow()
    expect(await quantity()).toBe(before + 1)
  })

  it('truncate: promises a full Content-Length and cuts the connection halfway', async () => {
    await sim.setFaults([{ match: { path: '/customers' }, truncate: true, count: 1 }])
    const response = await request('GET', '/customers')
    expect(response.status).toBe(200)
    await expect(response.text()).rejects.toThrow()
    expect((await request('GET', '/customers')).status).toBe(200)
  })

  it('huge: pads a valid body past 8 MiB', async () => {
    await sim.setFaults([{ match: { path: '/store' }, huge: true, count: 1 }])
    const text = await (await request('GET', '/store')).text()
    expect(text.length).toBeGreaterThan(8 * 1024 * 1024)
    expect(JSON.parse(text)).toHaveProperty('store.currency')
  })

  it('rejects invalid rules', async () => {
    const response = await fetch(`${sim.url}/__sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"rules": [{"status": 42}]}',
    })
    expect(response.status).toBe(400)
  })
})

describe('concurrent writes under one address', () => {
  it('gives 409 to the second of two overlapping writes and processes only the first', async () => {
    const before = await quantity()
    const responses = await Promise.all([
      request('PUT', `/subscriptions/${subscriptionId}`, { quantity: before + 1 }),
      request('PUT', `/subscriptions/${subscriptionId}`, { quantity: before + 2 }),
    ])
    const statuses = responses.map((response) => response.status).sort()
    expect(statuses).toEqual([200, 409])
    const conflict = responses.find((response) => response.status === 409) as Response
    expect(await conflict.json()).toEqual({ error: 'A call to this route is already in progress.' })
    const winner = responses.find((response) => response.status === 200) as Response
    expect(await quantity()).toBe((await winner.json()).subscription.quantity)
  })

  it('lets writes under different addresses run at the same time', async () => {
    const state = await sim.state()
    const onePerAddress = state.subscriptions.filter(
      (sub, index, all) =>
        sub.status === 'active' &&
        all.findIndex((other) => other.address_id === sub.address_id && other.status === 'active') === index,
    )
    const first = onePerAddress[0] as { id: number }
    const second = onePerAddress[1] as { id: number }
    const responses = await Promise.all([
      request('PUT', `/subscriptions/${first.id}`, { quantity: 3 }),
      request('PUT', `/subscriptions/${second.id}`, { quantity: 3 }),
    ])
    expect(responses.map((response) => response.status)).toEqual([200, 200])
  })
})
