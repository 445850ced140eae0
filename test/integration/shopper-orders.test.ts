import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type ShopperHarness, startShopperHarness } from '../support/shopper-harness.ts'

/**
 * The order history over HTTP against the simulator and a real Redis: cursor pages newest first (cursors signed and
 * bound to the shopper, so a made-up or another shopper's cursor is a 400 with no upstream call), and one order by id
 * (another shopper's id is a 404 with no upstream call for it).
 */
let h: ShopperHarness
let app: FastifyInstance
let alice: string
let bob: string
let aliceId: string
let bobId: string

async function simOrdersOf(customerId: string) {
  const state = await h.sim.state()
  return state.orders
    .filter((row) => String(row.customer.id) === customerId)
    .sort((a, b) => String(b.processed_at).localeCompare(String(a.processed_at)) || b.id - a.id)
}

beforeAll(async () => {
  h = await startShopperHarness('orders', { addressWriteWindowMs: 0 })
  app = await h.bridge()
  alice = await h.mint(app, 'alice@example.com')
  bob = await h.mint(app, 'bob@example.com')
  aliceId = await h.customerId('alice@example.com')
  bobId = await h.customerId('bob@example.com')
})

beforeEach(async () => {
  await h.reset()
})

afterAll(async () => {
  await h?.close()
})

describe('GET /v1/orders', () => {
  it('pages the whole history newest first with next_cursor, one upstream read per page', async () => {
    const expected = await simOrdersOf(aliceId)
    expect(expected.length).toBeGreaterThan(2)
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    const mark = await h.ledgerLength()
    do {
      const url: string = `/v1/orders?limit=2${cursor ? `&cursor=${cursor}` : ''}`
      const response = await h.call(app, alice, 'GET', url)
      expect(response.statusCode).toBe(200)
      const body = response.json()
      expect(body.orders.length).toBeLessThanOrEqual(2)
      seen.push(...body.orders.map((order: { id: string }) => order.id))
      cursor = body.next_cursor
      pages += 1
    } while (cursor && pages < 20)
    expect(seen).toEqual(expected.map((row) => String(row.id)))
    const reads = (await h.upstreamSince(mark)).filter((call) => call === 'GET /orders')
    expect(reads).toHaveLength(pages)
  })

  it('answers the first page with the default size and the same envelope', async () => {
    const response = await h.call(app, alice, 'GET', '/v1/orders')
    expect(response.statusCode).toBe(200)
    const body = response.json()
    expect(Object.keys(body).sort()).toEqual(['next_cursor', 'orders'])
    expect(body.next_cursor).toBeNull()
    expect(body.orders.length).toBe((await simOrdersOf(aliceId)).length)
    expect(body.orders[0]).toEqual(
      expect.objectContaining({ id: expect.any(String), status: 'success', line_items: expect.any(Array) }),
    )
  })

  it("refuses a made-up cursor and another shopper's cursor with 400, before any upstream call", async () => {
    const first = await h.call(app, alice, 'GET', '/v1/orders?limit=1')
    const cursor = first.json().next_cursor
    expect(cursor).toEqual(expect.any(String))
    await h.call(app, bob, 'GET', '/v1/orders?limit=1')
    const mark = await h.ledgerLength()
    const forged = Buffer.from(JSON.stringify({ v: 1, u: 'eyJ4IjoxfQ', m: 'AAAAAAAAAAAAAAAAAAAAAA' })).toString(
      'base64url',
    )
    for (const [token, value] of [
      [bob, cursor],
      [alice, forged],
      [alice, 'not a cursor'],
    ] as const) {
      const response = await h.call(app, token, 'GET', `/v1/orders?cursor=${encodeURIComponent(value)}`)
      expect(response.statusCode).toBe(400)
      expect(response.json().code).toBe('VALIDATION_FAILED')
    }
    expect(await h.upstreamSince(mark)).toEqual([])
  })

  it('refuses a limit outside 1–250 with 400', async () => {
    for (const limit of ['0', '251', 'many']) {
      expect((await h.call(app, alice, 'GET', `/v1/orders?limit=${limit}`)).statusCode).toBe(400)
    }
  })
})

describe('GET /v1/orders/:id', () => {
  it('answers one of the shopper’s orders, old ones included, with its shipping address', async () => {
    const orders = await simOrdersOf(aliceId)
    const oldest = orders.at(-1)
    const response = await h.call(app, alice, 'GET', `/v1/orders/${oldest?.id}`)
    expect(response.statusCode).toBe(200)
    const order = response.json()
    expect(order).toEqual(
      expect.objectContaining({
        id: String(oldest?.id),
        status: 'success',
        total_price: expect.any(String),
        line_items: expect.arrayContaining([expect.objectContaining({ title: expect.any(String) })]),
        shipping_address: expect.objectContaining({ address1: oldest?.shipping_address.address1 }),
      }),
    )
    expect(response.headers['cache-control']).toBe('private, no-store')
  })

  it("answers 404 for another shopper's order and an unknown id, with no upstream call for the id", async () => {
    const bobOrder = (await simOrdersOf(bobId))[0]
    await h.call(app, alice, 'GET', '/v1/orders/1')
    const mark = await h.ledgerLength()
    for (const id of [String(bobOrder?.id), '999999999']) {
      const response = await h.call(app, alice, 'GET', `/v1/orders/${id}`)
      expect(response.statusCode).toBe(404)
      expect(response.json().code).toBe('NOT_FOUND')
    }
    const calls = await h.upstreamSince(mark)
    expect(calls.filter((call) => call.includes(String(bobOrder?.id)) || call.includes('999999999'))).toEqual([])
    // Alice's own list is cached and young: not even it is read again.
    expect(calls).toEqual([])
  })

  it('refuses a non-numeric id with 400 without reaching Recharge', async () => {
    const response = await h.call(app, alice, 'GET', '/v1/orders/abc')
    expect(response.statusCode).toBe(400)
  })
})
