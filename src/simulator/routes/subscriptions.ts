import type { FastifyInstance } from 'fastify'
import { parseMoney } from '../../infra/money.ts'
import { findVariant, readExternalId, variantPriceMinor } from '../catalog.ts'
import type { Simulator } from '../context.ts'
import { isDate } from '../dates.ts'
import { fieldError, missingRequired, notFound, SimError, unprocessable } from '../errors.ts'
import { paginate, parseListQuery } from '../pagination.ts'
import { rebuildQueuedCharges } from '../scheduling.ts'
import type { SimState } from '../state.ts'
import {
  activateSubscription,
  cancelSubscription,
  emitSubscription,
  readFrequency,
  readQuantity,
  readUnit,
  setNextChargeDate,
  updateSubscription,
} from '../subscription-rules.ts'
import type { Subscription } from '../types.ts'
import { subscriptionView } from '../views.ts'
import { findAddress } from './addresses.ts'
import { bodyOf, dateRangeFilter, idParam, idsFilter, intFilter, listEnvelope, scopedRecords } from './helpers.ts'

const SORTS = ['id-asc', 'id-desc', 'created_at-asc', 'created_at-desc', 'updated_at-asc', 'updated_at-desc']
const STATUSES = new Set(['active', 'cancelled', 'expired'])

export function findSubscription(state: SimState, id: number): Subscription {
  const subscription = state.subscriptions.get(id)
  if (!subscription) throw notFound()
  return subscription
}

export async function subscriptionRoutes(app: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  app.get('/subscriptions', async (request) => {
    const state = sim.state
    const query = parseListQuery(request.query as Record<string, unknown>, { defaultSort: 'id-desc', sorts: SORTS })
    const { filters } = query
    const customerId = intFilter(filters.customer_id, 'customer_id')
    const addressId = intFilter(filters.address_id, 'address_id')
    const ids = idsFilter(filters.ids)
    const status = filters.status?.toLowerCase()
    if (status !== undefined && !STATUSES.has(status))
      throw fieldError('status', 'Must be one of: active, cancelled, expired.')
    const variantId = filters.external_variant_id
    const inRange = dateRangeFilter(filters)
    const matches = [...scopedRecords(state, state.subscriptions, { customerId, addressId })].filter(
      (sub) =>
        (customerId === null || sub.customer_id === customerId) &&
        (addressId === null || sub.address_id === addressId) &&
        (ids === null || ids.has(sub.id)) &&
        (status === undefined || sub.status === status) &&
        (variantId === undefined || sub.external_variant_id.ecommerce === variantId) &&
        inRange(sub),
    )
    const page = paginate(matches, query, (sub, field) => String(sub[field as keyof Subscription]))
    return listEnvelope('subscriptions', page, (sub) => subscriptionView(state, sub))
  })

  app.get('/subscriptions/:id', async (request) => {
    const state = sim.state
    return { subscription: subscriptionView(state, findSubscription(state, idParam(request))) }
  })

  app.post('/subscriptions', async (request, reply) => {
    const state = sim.state
    const body = bodyOf(request, 'subscription')
    const required = [
      'address_id',
      'charge_interval_frequency',
      'external_variant_id',
      'next_charge_scheduled_at',
      'order_interval_frequency',
      'order_interval_unit',
      'quantity',
    ]
    const missing = required.filter((key) => body[key] === undefined || body[key] === null || body[key] === '')
    if (missing.length > 0) throw missingRequired(missing)
    const address = state.addresses.get(Number(body.address_id))
    if (!address) throw fieldError('address_id', 'Address not found.')
    const next = body.next_charge_scheduled_at
    if (!isDate(next)) throw fieldError('next_charge_scheduled_at', 'Not a valid date.')
    if (next < state.today()) throw new SimError(422, { errors: { next_charge_scheduled_at: 'Cannot be in the past' } })
    const found = findVariant(state, readExternalId(body.external_product_id), readExternalId(body.external_variant_id))
    if (!found) throw unprocessable({ external_variant_id: ['Variant not found.'] })
    const price =
      body.price === undefined ? variantPriceMinor(state, found.variant) : parseMoney(body.price, state.decimals)
    if (price === null || price < 0) throw fieldError('price', 'Not a valid number.')
    const subscription = await sim.locks.write(address.id, () => {
      const now = state.timestamp()
      const created: Subscription = {
        id: state.nextId('subscription', 219_400_001),
        address_id: address.id,
        customer_id: address.customer_id,
        analytics_data: { utm_params: [] },
        cancellation_reason: null,
        cancellation_reason_comments: null,
        cancelled_at: null,
        charge_interval_frequency: readFrequency(body.charge_interval_frequency, 'charge_interval_frequency'),
        created_at: now,
        expire_after_specific_number_of_charges:
          body.expire_after_specific_number_of_charges == null
            ? null
            : readFrequency(body.expire_after_specific_number_of_charges, 'expire_after_specific_number_of_charges'),
        external_product_id: { ecommerce: found.product.external_product_id },
        external_variant_id: { ecommerce: found.variant.external_variant_id },
        is_prepaid: false,
        is_skippable: true,
        is_swappable: true,
        max_retries_reached: false,
        next_charge_scheduled_at: next,
        order_day_of_month: null,
        order_day_of_week: null,
        order_interval_frequency: readFrequency(body.order_interval_frequency, 'order_interval_frequency'),
        order_interval_unit: readUnit(body.order_interval_unit, 'order_interval_unit'),
        presentment_currency: state.options.currency,
        price: state.money(price),
        product_title: typeof body.product_title === 'string' ? body.product_title : found.product.title,
        properties: Array.isArray(body.properties) ? (body.properties as Subscription['properties']) : [],
        quantity: readQuantity(body.quantity),
        sku: null,
        sku_override: false,
        status: 'active',
        updated_at: now,
        variant_title: found.variant.title,
      }
      state.subscriptions.set(created.id, created)
      rebuildQueuedCharges(state, address.id)
      emitSubscription(state, 'subscription/created', created)
      return created
    })
    return reply.code(201).send({ subscription: subscriptionView(state, subscription) })
  })

  app.put('/subscriptions/:id', async (request) => {
    const state = sim.state
    const subscription = findSubscription(state, idParam(request))
    const body = bodyOf(request, 'subscription')
    return sim.locks.write(subscription.address_id, () => {
      updateSubscription(state, subscription, body)
      return { subscription: subscriptionView(state, subscription) }
    })
  })

  app.delete('/subscriptions/:id', async (request, reply) => {
    const state = sim.state
    const subscription = findSubscription(state, idParam(request))
    await sim.locks.write(subscription.address_id, () => {
      state.subscriptions.delete(subscription.id)
      state.pauses.delete(subscription.id)
      rebuildQueuedCharges(state, subscription.address_id)
      state.emit('subscription/deleted', { subscription: { id: subscription.id } })
    })
    return reply.code(204).send()
  })

  app.post('/subscriptions/:id/cancel', async (request) => {
    const state = sim.state
    const subscription = findSubscription(state, idParam(request))
    const body = bodyOf(request)
    return sim.locks.write(subscription.address_id, () => {
      cancelSubscription(state, subscription, body)
      return { subscription: subscriptionView(state, subscription) }
    })
  })

  app.post('/subscriptions/:id/activate', async (request) => {
    const state = sim.state
    const subscription = findSubscription(state, idParam(request))
    return sim.locks.write(subscription.address_id, () => {
      activateSubscription(state, subscription)
      return { subscription: subscriptionView(state, subscription) }
    })
  })

  app.post('/subscriptions/:id/set_next_charge_date', async (request) => {
    const state = sim.state
    const subscription = findSubscription(state, idParam(request))
    const body = bodyOf(request)
    const pause = isPauseFlag((request.query as Record<string, unknown>).pause) || isPauseFlag(body.pause)
    return sim.locks.write(subscription.address_id, () => {
      setNextChargeDate(state, subscription, body, { pause })
      return { subscription: subscriptionView(state, subscription) }
    })
  })

  app.post('/subscriptions/:id/change_address', async (request) => {
    const state = sim.state
    const subscription = findSubscription(state, idParam(request))
    const body = bodyOf(request)
    if (body.address_id === undefined) throw fieldError('address_id', 'Missing data for required field.')
    const target = state.addresses.get(Number(body.address_id))
    if (!target || target.customer_id !== subscription.customer_id) {
      throw fieldError('address_id', 'Address does not belong to the subscription customer.')
    }
    if (body.next_charge_scheduled_at !== undefined && body.next_charge_scheduled_at !== null) {
      if (!isDate(body.next_charge_scheduled_at) || body.next_charge_scheduled_at <= state.today()) {
        throw fieldError('next_charge_scheduled_at', 'date is not far enough in the future')
      }
    }
    findAddress(state, target.id)
    return sim.locks.write(subscription.address_id, () => {
      const previous = subscription.address_id
      subscription.address_id = target.id
      if (typeof body.next_charge_scheduled_at === 'string' && subscription.status === 'active') {
        subscription.next_charge_scheduled_at = body.next_charge_scheduled_at
      }
      subscription.updated_at = state.timestamp()
      rebuildQueuedCharges(state, previous)
      rebuildQueuedCharges(state, target.id)
      emitSubscription(state, 'subscription/updated', subscription)
      return { subscription: subscriptionView(state, subscription) }
    })
  })
}

/** `pause=true` as the SDK sends it (query string), or `"pause": true` in the body. */
function isPauseFlag(value: unknown): boolean {
  return value === true || value === 'true' || value === '1'
}
