import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * The leaky bucket, pinned: 40 calls per token, leaking 2 per second. The simulator's clock is frozen, so time
 * only moves when the test says so and nothing here depends on how fast the machine is.
 */
let sim: TestSimulator

beforeAll(async () => {
  sim = await startTestSimulator({ frozenClock: true, apiTokens: ['sk_test_simulator', 'sk_test_second'] })
})
afterAll(async () => {
  await sim.close()
})
beforeEach(async () => {
  await sim.reset()
})

async function get(path: string, token = sim.apiToken) {
  const response = await fetch(`${sim.url}${path}`, {
    headers: { 'x-recharge-access-token': token, 'x-recharge-version': '2021-11' },
  })
  return { status: response.status, limit: response.headers.get('x-recharge-limit'), body: await response.text() }
}

describe('leaky bucket (40 calls, 2/s)', () => {
  it('a burst of 60 sequential calls: the first 40 succeed, the other 20 get 429, and the header counts each call', async () => {
    const results = []
    for (let index = 0; index < 60; index += 1) results.push(await get('/store'))
    expect(results.slice(0, 40).map((result) => result.status)).toEqual(Array(40).fill(200))
    expect(results.slice(40).map((result) => result.status)).toEqual(Array(20).fill(429))
    expect(results.slice(0, 40).map((result) => result.limit)).toEqual(
      Array.from({ length: 40 }, (_, index) => `${index + 1}/40`),
    )
    expect(new Set(results.slice(40).map((result) => result.limit))).toEqual(new Set(['40/40']))
    expect(JSON.parse(results[40]?.body ?? '{}')).toEqual({ errors: 'Too Many Requests' })
  })

  it('a concurrent burst of 60 gets exactly 40 answers and 20 refusals, and refused calls are not processed', async () => {
    const before = (await sim.state()).customers.length
    const statuses = await Promise.all(
      Array.from({ length: 60 }, async (_, index) => {
        const response = await fetch(`${sim.url}/customers`, {
          method: 'POST',
          headers: { 'x-recharge-access-token': sim.apiToken, 'content-type': 'application/json' },
          body: JSON.stringify({ email: `burst-${index}@example.com`, first_name: 'Burst', last_name: `No${index}` }),
        })
        await response.arrayBuffer()
        return response.status
      }),
    )
    expect(statuses.filter((status) => status === 201)).toHaveLength(40)
    expect(statuses.filter((status) => status === 429)).toHaveLength(20)
    expect((await sim.state()).customers.length).toBe(before + 40)
    expect(await sim.ledger({ status: 429 })).toHaveLength(20)
  })

  it('leaks whole calls at 2 per second: 429 until half a second passes, then exactly one more call fits', async () => {
    for (let index = 0; index < 40; index += 1) await get('/store')
    expect((await get('/store')).status).toBe(429)
    await sim.advanceClock(499)
    expect((await get('/store')).status).toBe(429)
    await sim.advanceClock(1)
    expect(await get('/store')).toMatchObject({ status: 200, limit: '40/40' })
    expect((await get('/store')).status).toBe(429)
    await sim.advanceClock(10_000)
    expect(await get('/store')).toMatchObject({ status: 200, limit: '21/40' })
  })

  it('keeps one bucket per token', async () => {
    for (let index = 0; index < 40; index += 1) await get('/store')
    expect((await get('/store')).status).toBe(429)
    expect(await get('/store', 'sk_test_second')).toMatchObject({ status: 200, limit: '1/40' })
  })

  it('refills on reset', async () => {
    for (let index = 0; index < 41; index += 1) await get('/store')
    await sim.reset()
    expect(await get('/store')).toMatchObject({ status: 200, limit: '1/40' })
  })
})
