import { z } from 'zod'
import {
  type ProductWriteBody,
  productEnvelope,
  productListEnvelope,
  type RechargeProduct,
  type RechargeProductPage,
} from '../schemas/products.ts'
import type { CallOptions, RechargeTransport } from '../types.ts'

/** Largest page Recharge serves; a sync reads the catalog in as few calls as possible. */
export const MAX_PAGE_SIZE = 250

const productPath = (externalProductId: string) => `/products/${encodeURIComponent(externalProductId)}`

/** Recharge 2021-11 `/products` (keyed by external_product_id; Custom/PIM integrations). */
export function productsResource(transport: RechargeTransport) {
  return {
    /** One page. With a cursor Recharge accepts no other filter, so only cursor and limit are sent. */
    list(page: { cursor?: string | null; limit?: number } = {}, options?: CallOptions): Promise<RechargeProductPage> {
      const query = page.cursor
        ? { cursor: page.cursor, limit: page.limit ?? MAX_PAGE_SIZE }
        : { limit: page.limit ?? MAX_PAGE_SIZE }
      return transport.send({ method: 'GET', path: '/products', query, schema: productListEnvelope }, options)
    },

    /** Every product, page by page at the largest page size. */
    async *listAll(options?: CallOptions): AsyncGenerator<RechargeProduct[]> {
      let cursor: string | null = null
      do {
        const page: RechargeProductPage = await this.list({ cursor, limit: MAX_PAGE_SIZE }, options)
        yield page.products
        cursor = page.next_cursor
      } while (cursor)
    },

    get(externalProductId: string, options?: CallOptions): Promise<RechargeProduct> {
      return transport.send({ method: 'GET', path: productPath(externalProductId), schema: productEnvelope }, options)
    },

    create(body: ProductWriteBody, options?: CallOptions): Promise<RechargeProduct> {
      return transport.send({ method: 'POST', path: '/products', body, schema: productEnvelope }, options)
    },

    update(externalProductId: string, body: ProductWriteBody, options?: CallOptions): Promise<RechargeProduct> {
      return transport.send(
        { method: 'PUT', path: productPath(externalProductId), body, schema: productEnvelope },
        options,
      )
    },

    async delete(externalProductId: string, options?: CallOptions): Promise<void> {
      await transport.send({ method: 'DELETE', path: productPath(externalProductId), schema: z.unknown() }, options)
    },
  }
}

export type ProductsResource = ReturnType<typeof productsResource>
