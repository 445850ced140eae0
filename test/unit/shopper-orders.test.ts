import { describe, expect, it } from 'vitest'
import type { Cache } from '../../src/cache/types.ts'
import { AppError } from '../../src/errors.ts'
import type { Order } from '../../src/recharge/schemas/orders.ts'
import { createOrderCursorCodec } from '../../src/shopper/order-cursor.ts'
import { OrderHistory } from '../../src/shopper/orders.ts'
import type { ShopperRecords } from '../../src/shopper/records.ts'
import { MAX_SHOPPER_ROWS, type ShopperUpstream } from '../../src/shopper/upstream.ts'

/** Order-history cursors and the one-order ownership rule, without I/O. */
describe('order cursors', () => {
  const codec = createOrderCursorCodec('test-secret-0123456789abcdef0123456789')

  it('round-trip for the shopper they were issued to', () => {
    const cursor = codec.encode('42', 'upstream-cursor') as string
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(codec.decode('42', cursor)).toBe('upstream-cursor')
    expect(codec.encode('42', null)).toBeNull()
  })

  it("refuse another shopper's cursor, a tampered one and one from another key with 400", () => {
    const cursor = codec.encode('42', 'upstream-cursor') as string
    const tampered = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(cursor, 'base64url').toString()), u: 'other' }),
    ).toString('base64url')
    const otherKey = createOrderCursorCodec('another-secret-0123456789abcdef0123').encode('42', 'upstream-cursor')
    for (const [customer, value] of [
      ['43', cursor],
      ['42', tampered],
      ['42', otherKey as string],
      ['42', 'x'.repeat(3000)],
      ['42', '!!'],
    ] as const) {
      let error: unknown
      try {
        codec.decode(customer, value)
      } catch (caught) {
        error = caught
      }
      expect(error).toBeInstanceOf(AppError)
      expect((error as AppError).status).toBe(400)
    }
  })
})

describe('one order', () => {
  const order = (id: string, customerId = '7'): Order =>
    ({ id, customer: { id: customerId }, line_items: [] }) as unknown as Order

  function history(listed: Order[], lookup: Order[]) {
    const calls: unknown[] = []
    const records = {
      ownOrder: async (_customerId: string, id: string) => {
        const found = listed.find((row) => row.id === id)
        if (!found) throw new AppError('NOT_FOUND')
        return found
      },
      orders: async () => ({ rows: listed, state: 'HIT', ageMs: 0 }),
    } as unknown as ShopperRecords
    const upstream = () =>
      ({
        orders: {
          list: async (filters: unknown) => {
            calls.push(filters)
            return { items: lookup, nextCursor: null, previousCursor: null }
          },
        },
      }) as unknown as ShopperUpstream
    const cache = { define: () => Object.assign(async () => undefined, { invalidate: async () => {} }) }
    const orders = new OrderHistory({
      records,
      upstream,
      cache: cache as unknown as Cache,
      namespace: '',
      cursors: createOrderCursorCodec(),
    })
    return { orders, calls }
  }

  it('is answered from the shopper’s list, and a miss is a 404 with no upstream call while the list is complete', async () => {
    const { orders, calls } = history([order('1'), order('2')], [])
    expect((await orders.one('7', '2')).id).toBe('2')
    await expect(orders.one('7', '999')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect(calls).toEqual([])
  })

  it('for a shopper with a full list, looks the id up among their own orders only', async () => {
    const full = Array.from({ length: MAX_SHOPPER_ROWS }, (_, index) => order(String(index + 1000)))
    const { orders, calls } = history(full, [order('5')])
    expect((await orders.one('7', '5')).id).toBe('5')
    expect(calls).toEqual([{ customer_id: '7', ids: ['5'] }])
    // Someone else's order (Recharge would not list it under this customer; a stray row is refused anyway).
    const stray = history(full, [order('6', '8')])
    await expect(stray.orders.one('7', '6')).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })
})
