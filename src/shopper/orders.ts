import { callOptions } from '../cache/call-options.ts'
import type { Cache, CachedFunction } from '../cache/types.ts'
import { AppError, isAppError } from '../errors.ts'
import type { Order } from '../recharge/schemas/orders.ts'
import type { OrderCursorCodec } from './order-cursor.ts'
import type { ShopperRecords } from './records.ts'
import { MAX_SHOPPER_ROWS, type ShopperUpstream } from './upstream.ts'

/** Older orders change rarely (a refund, a fulfilment); the order webhooks drop these entries when they do. */
const PAGE_POLICY = { ttlMs: 60_000, staleWhileRevalidateMs: 60_000, staleIfErrorMs: 10 * 60_000 }

interface PageKey {
  customerId: string
  limit: number
  /** Recharge's cursor; absent for the first (newest) page. */
  upstreamCursor?: string | undefined
}

export interface OrderPage {
  orders: Order[]
  nextCursor: string | null
  state: 'HIT' | 'MISS' | 'STALE'
}

/**
 * A shopper's order history, page by page (newest first), on Recharge's own cursors wrapped in ones bound to the
 * shopper (src/shopper/order-cursor.ts). Each page is cached per shopper, cursor and size, tagged `customer:<id>` and
 * with its orders' ids, so order/* and charge/* webhooks drop it.
 *
 * One order (`GET /v1/orders/:id`): the id must be in the shopper's cached order list (their newest 500 orders,
 * re-read once when it is older than a moment), else 404 with no upstream call for that id, as for every other
 * record. Only a shopper whose list is full (500 orders) may own an older one: for them the bridge asks Recharge for
 * that id *among this customer's orders* (`GET /orders?customer_id=<theirs>&ids=<id>`), which answers nothing for an
 * order of someone else, so it can never show another shopper's order nor tell whether it exists.
 */
export class OrderHistory {
  private readonly records: ShopperRecords
  private readonly upstream: () => ShopperUpstream
  private readonly cursors: OrderCursorCodec
  private readonly pages: CachedFunction<PageKey, { orders: Order[]; next: string | null }>

  constructor(options: {
    records: ShopperRecords
    upstream: () => ShopperUpstream
    cache: Cache
    namespace: string
    cursors: OrderCursorCodec
  }) {
    this.records = options.records
    this.upstream = options.upstream
    this.cursors = options.cursors
    this.pages = options.cache.define<PageKey, { orders: Order[]; next: string | null }>(
      `${options.namespace}shopper-order-pages`,
      {
        key: ({ customerId, limit, upstreamCursor }) => `${customerId}:${limit}:${upstreamCursor ?? ''}`,
        ...PAGE_POLICY,
        tags: ({ customerId }, page) => [
          `customer:${customerId}`,
          ...(page?.orders ?? []).map((order) => `order:${order.id}`),
        ],
        fetch: async ({ customerId, limit, upstreamCursor }, context) => {
          const orders = this.upstream().orders
          // A follow-up page sends only the cursor: Recharge's cursor carries the customer filter and the sort.
          const page = upstreamCursor
            ? await orders.list({}, { cursor: upstreamCursor, limit }, callOptions(context))
            : await orders.list(
                { customer_id: customerId, sort_by: 'processed_at-desc' },
                { limit },
                callOptions(context),
              )
          // Defence in depth: a row that names another customer is never shown, whatever the cursor said.
          const own = page.items.filter((order) => order.customer?.id == null || order.customer.id === customerId)
          return { orders: own, next: page.nextCursor }
        },
      },
    )
  }

  async page(customerId: string, cursor: string | undefined, limit: number): Promise<OrderPage> {
    const upstreamCursor = cursor === undefined ? undefined : this.cursors.decode(customerId, cursor)
    const result = await this.pages({ customerId, limit, upstreamCursor })
    return {
      orders: result.value.orders,
      nextCursor: this.cursors.encode(customerId, result.value.next),
      state: result.state,
    }
  }

  async one(customerId: string, orderId: string): Promise<Order> {
    try {
      return await this.records.ownOrder(customerId, orderId)
    } catch (error) {
      if (!isAppError(error) || error.code !== 'NOT_FOUND') throw error
      // Their list holds every order they have: the id is not theirs. No upstream call for it.
      if ((await this.records.orders(customerId)).rows.length < MAX_SHOPPER_ROWS) throw error
    }
    const page = await this.upstream().orders.list({ customer_id: customerId, ids: [orderId] }, { limit: 1 })
    const order = page.items.find((row) => row.id === orderId && (row.customer?.id ?? customerId) === customerId)
    if (!order) throw new AppError('NOT_FOUND', { detail: 'No such record for this customer.' })
    return order
  }
}
