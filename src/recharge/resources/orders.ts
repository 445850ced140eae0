import { type PageRequest, pageQuery, pageSchema } from '../pagination.ts'
import { orderEnvelope, orderSchema } from '../schemas/orders.ts'
import type { CallOptions, RechargeTransport } from '../types.ts'

/** Fail: the cancel policy counts delivered orders, and a row left out would undercount them. */
const orderPage = pageSchema('orders', orderSchema)

export interface OrderFilters {
  customer_id?: string
  address_id?: string
  ids?: readonly (string | number)[]
  status?: string
  created_at_min?: string
  created_at_max?: string
  sort_by?: 'id-asc' | 'id-desc' | 'processed_at-asc' | 'processed_at-desc' | 'updated_at-asc' | 'updated_at-desc'
}

export function ordersResource(transport: RechargeTransport) {
  return {
    list(filters: OrderFilters = {}, page?: PageRequest, options?: CallOptions) {
      return transport.send(
        { method: 'GET', path: '/orders', query: pageQuery({ ...filters }, page), schema: orderPage },
        options,
      )
    },
    get(id: string, options?: CallOptions) {
      return transport.send(
        { method: 'GET', path: `/orders/${encodeURIComponent(id)}`, schema: orderEnvelope },
        options,
      )
    },
  }
}
