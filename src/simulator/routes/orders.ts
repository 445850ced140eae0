import type { FastifyInstance } from 'fastify'
import type { Simulator } from '../context.ts'
import { fieldError, notFound } from '../errors.ts'
import { paginate, parseListQuery } from '../pagination.ts'
import type { Order } from '../types.ts'
import { dateRangeFilter, idParam, idsFilter, intFilter, listEnvelope, scopedRecords } from './helpers.ts'

const SORTS = [
  'id-asc',
  'id-desc',
  'updated_at-asc',
  'updated_at-desc',
  'processed_at-asc',
  'processed_at-desc',
  'scheduled_at-asc',
  'scheduled_at-desc',
]

export async function orderRoutes(app: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  app.get('/orders', async (request) => {
    const state = sim.state
    const query = parseListQuery(request.query as Record<string, unknown>, { defaultSort: 'id-desc', sorts: SORTS })
    const { filters } = query
    const customerId = intFilter(filters.customer_id, 'customer_id')
    const addressId = intFilter(filters.address_id, 'address_id')
    const chargeId = intFilter(filters.charge_id, 'charge_id')
    const ids = idsFilter(filters.ids)
    const status = filters.status?.toLowerCase()
    const type = filters.type?.toLowerCase()
    if (type !== undefined && type !== 'checkout' && type !== 'recurring')
      throw fieldError('type', 'Must be one of: checkout, recurring.')
    const inRange = dateRangeFilter(filters)
    const matches = [...scopedRecords(state, state.orders, { customerId, addressId })].filter(
      (order) =>
        (customerId === null || order.customer.id === customerId) &&
        (addressId === null || order.address_id === addressId) &&
        (chargeId === null || order.charge.id === chargeId) &&
        (ids === null || ids.has(order.id)) &&
        (status === undefined || order.status === status) &&
        (type === undefined || order.type === type) &&
        (filters.external_order_id === undefined || order.external_order_id.ecommerce === filters.external_order_id) &&
        inRange(order),
    )
    const page = paginate(matches, query, (order, field) => String(order[field as keyof Order] ?? ''))
    return listEnvelope('orders', page, (order) => order)
  })

  app.get('/orders/:id', async (request) => {
    const order = sim.state.orders.get(idParam(request))
    if (!order) throw notFound()
    return { order }
  })
}
