import type { FastifyInstance } from 'fastify'
import type { Simulator } from '../context.ts'
import { parseTimestamp } from '../dates.ts'
import { fieldError, notFound } from '../errors.ts'
import { paginate, parseListQuery } from '../pagination.ts'
import { skipCharge, unskipCharge } from '../skips.ts'
import type { SimState } from '../state.ts'
import type { Charge } from '../types.ts'
import { bodyOf, dateRangeFilter, idParam, idsFilter, intFilter, listEnvelope, scopedRecords } from './helpers.ts'

const SORTS = [
  'id-asc',
  'id-desc',
  'created_at-asc',
  'created_at-desc',
  'updated_at-asc',
  'updated_at-desc',
  'scheduled_at-asc',
  'scheduled_at-desc',
]
const STATUSES = new Set([
  'queued',
  'success',
  'skipped',
  'error',
  'refunded',
  'partially_refunded',
  'pending',
  'pending_manual_payment',
])

export function findCharge(state: SimState, id: number): Charge {
  const charge = state.charges.get(id)
  if (!charge) throw notFound()
  return charge
}

export async function chargeRoutes(app: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  app.get('/charges', async (request) => {
    const state = sim.state
    const query = parseListQuery(request.query as Record<string, unknown>, { defaultSort: 'id-asc', sorts: SORTS })
    const { filters } = query
    const customerId = intFilter(filters.customer_id, 'customer_id')
    const addressId = intFilter(filters.address_id, 'address_id')
    const purchaseItemId = intFilter(filters.purchase_item_id ?? filters.subscription_id, 'purchase_item_id')
    const ids = idsFilter(filters.ids)
    const statuses = filters.status
      ?.toLowerCase()
      .split(',')
      .map((status) => status.trim())
    if (statuses?.some((status) => !STATUSES.has(status))) {
      throw fieldError('status', `Must be one of: ${[...STATUSES].join(', ')}.`)
    }
    const scheduledMin = scheduledBound(filters.scheduled_at_min, 'scheduled_at_min')
    const scheduledMax = scheduledBound(filters.scheduled_at_max, 'scheduled_at_max')
    const inRange = dateRangeFilter(filters)
    const matches = [...scopedRecords(state, state.charges, { customerId, addressId })].filter(
      (charge) =>
        (customerId === null || charge.customer.id === customerId) &&
        (addressId === null || charge.address_id === addressId) &&
        (ids === null || ids.has(charge.id)) &&
        (statuses === undefined || statuses.includes(charge.status)) &&
        (purchaseItemId === null || charge.line_items.some((item) => item.purchase_item_id === purchaseItemId)) &&
        (scheduledMin === null || charge.scheduled_at >= scheduledMin) &&
        (scheduledMax === null || charge.scheduled_at <= scheduledMax) &&
        inRange(charge),
    )
    const page = paginate(matches, query, (charge, field) => String(charge[field as keyof Charge]))
    return listEnvelope('charges', page, (charge) => charge)
  })

  app.get('/charges/:id', async (request) => ({ charge: findCharge(sim.state, idParam(request)) }))

  app.post('/charges/:id/skip', async (request) => {
    const state = sim.state
    const charge = findCharge(state, idParam(request))
    const body = bodyOf(request)
    return sim.locks.write(charge.address_id, () => ({ charge: skipCharge(state, charge, body.purchase_item_ids) }))
  })

  app.post('/charges/:id/unskip', async (request) => {
    const state = sim.state
    const charge = findCharge(state, idParam(request))
    const body = bodyOf(request)
    return sim.locks.write(charge.address_id, () => ({ charge: unskipCharge(state, charge, body.purchase_item_ids) }))
  })
}

function scheduledBound(value: string | undefined, field: string): string | null {
  if (value === undefined) return null
  const ms = parseTimestamp(value)
  if (ms === null) throw fieldError(field, `Invalid date: ${value}. Must be a valid ISO-8601 datetime string`)
  return new Date(ms).toISOString().slice(0, 10)
}
