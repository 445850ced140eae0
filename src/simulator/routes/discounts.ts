import type { FastifyInstance } from 'fastify'
import type { Simulator } from '../context.ts'
import { fieldError, notFound } from '../errors.ts'
import { paginate, parseListQuery } from '../pagination.ts'
import type { StoreDiscount } from '../retention-types.ts'
import { dateRangeFilter, idParam, idsFilter, listEnvelope } from './helpers.ts'

const SORTS = ['id-asc', 'id-desc', 'created_at-asc', 'created_at-desc', 'updated_at-asc', 'updated_at-desc']
const STATUSES = new Set(['enabled', 'disabled', 'fully_disabled'])
const TYPES = new Set(['percentage', 'fixed_amount', 'shipping'])

/** The Discounts API, read side: the store's codes with their value, status, dates, applies-to rules and limits. */
export async function discountRoutes(app: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  app.get('/discounts', async (request) => {
    const query = parseListQuery(request.query as Record<string, unknown>, { defaultSort: 'id-desc', sorts: SORTS })
    const { filters } = query
    const ids = idsFilter(filters.ids)
    const code = filters.discount_code?.trim().toUpperCase()
    const status = filters.status?.toLowerCase()
    if (status !== undefined && !STATUSES.has(status)) {
      throw fieldError('status', `Must be one of: ${[...STATUSES].join(', ')}.`)
    }
    const type = filters.discount_type?.toLowerCase()
    if (type !== undefined && !TYPES.has(type)) {
      throw fieldError('discount_type', `Must be one of: ${[...TYPES].join(', ')}.`)
    }
    const inRange = dateRangeFilter(filters)
    const matches = [...sim.state.storeDiscounts.values()].filter(
      (discount) =>
        (ids === null || ids.has(discount.id)) &&
        (code === undefined || discount.code.toUpperCase() === code) &&
        (status === undefined || discount.status === status) &&
        (type === undefined || discount.value_type === type) &&
        inRange(discount),
    )
    const page = paginate(matches, query, (discount, field) => String(discount[field as keyof StoreDiscount]))
    return listEnvelope('discounts', page, (discount) => discount)
  })

  app.get('/discounts/:id', async (request) => {
    const discount = sim.state.storeDiscounts.get(idParam(request))
    if (!discount) throw notFound()
    return { discount }
  })
}
