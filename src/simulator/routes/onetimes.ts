import type { FastifyInstance } from 'fastify'
import { parseMoney } from '../../infra/money.ts'
import { findVariant, readExternalId, variantPriceMinor } from '../catalog.ts'
import type { Simulator } from '../context.ts'
import { isDate } from '../dates.ts'
import { fieldError, missingRequired, notFound, unprocessable } from '../errors.ts'
import { paginate, parseListQuery } from '../pagination.ts'
import { chargesNear, rebuildQueuedCharges } from '../scheduling.ts'
import type { SimState } from '../state.ts'
import { readQuantity } from '../subscription-rules.ts'
import type { Onetime } from '../types.ts'
import {
  type Body,
  bodyOf,
  dateRangeFilter,
  idParam,
  idsFilter,
  intFilter,
  listEnvelope,
  scopedRecords,
} from './helpers.ts'

const SORTS = ['id-asc', 'id-desc', 'created_at-asc', 'created_at-desc', 'updated_at-asc', 'updated_at-desc']

function findOnetime(state: SimState, id: number): Onetime {
  const onetime = state.onetimes.get(id)
  if (!onetime) throw notFound()
  return onetime
}

/** Onetimes: non-recurring items riding on a queued charge of their address. */
export async function onetimeRoutes(app: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  app.get('/onetimes', async (request) => {
    const state = sim.state
    const query = parseListQuery(request.query as Record<string, unknown>, { defaultSort: 'id-desc', sorts: SORTS })
    const customerId = intFilter(query.filters.customer_id, 'customer_id')
    const addressId = intFilter(query.filters.address_id, 'address_id')
    const ids = idsFilter(query.filters.ids)
    const inRange = dateRangeFilter(query.filters)
    const matches = [...scopedRecords(state, state.onetimes, { customerId, addressId })].filter(
      (onetime) =>
        (customerId === null || onetime.customer_id === customerId) &&
        (addressId === null || onetime.address_id === addressId) &&
        (ids === null || ids.has(onetime.id)) &&
        inRange(onetime),
    )
    const page = paginate(matches, query, (onetime, field) => String(onetime[field as keyof Onetime]))
    return listEnvelope('onetimes', page, (onetime) => onetime)
  })

  app.get('/onetimes/:id', async (request) => ({ onetime: findOnetime(sim.state, idParam(request)) }))

  app.post('/onetimes', async (request, reply) => {
    const state = sim.state
    const body = bodyOf(request, 'onetime')
    const addToNext = body.add_to_next_charge === true
    const required = ['address_id', 'external_variant_id', 'quantity']
    if (!addToNext) required.push('next_charge_scheduled_at')
    const missing = required.filter((key) => body[key] == null || body[key] === '')
    if (missing.length > 0) throw missingRequired(missing)
    const address = state.addresses.get(Number(body.address_id))
    if (!address) throw fieldError('address_id', 'Address not found.')
    assertActiveAddress(state, address.id)
    const date = addToNext ? nextQueuedDate(state, address.id) : readFutureDate(state, body.next_charge_scheduled_at)
    const found = findOnetimeVariant(state, body)
    if (!found) throw unprocessable({ external_variant_id: ['Variant not found.'] })
    const price =
      body.price === undefined ? variantPriceMinor(state, found.variant) : parseMoney(body.price, state.decimals)
    if (price === null || price < 0) throw fieldError('price', 'Not a valid number.')
    const onetime = await sim.locks.write(address.id, () => {
      const now = state.timestamp()
      const created: Onetime = {
        id: state.nextId('onetime', 330_000_001),
        address_id: address.id,
        customer_id: address.customer_id,
        created_at: now,
        external_product_id: { ecommerce: found.product.external_product_id },
        external_variant_id: { ecommerce: found.variant.external_variant_id },
        is_cancelled: false,
        next_charge_scheduled_at: date,
        presentment_currency: state.options.currency,
        price: state.money(price),
        product_title: typeof body.product_title === 'string' ? body.product_title : found.product.title,
        properties: Array.isArray(body.properties) ? (body.properties as Onetime['properties']) : [],
        quantity: readQuantity(body.quantity),
        sku: found.variant.sku,
        sku_override: false,
        updated_at: now,
        variant_title: found.variant.title,
      }
      state.onetimes.set(created.id, created)
      rebuildQueuedCharges(state, address.id)
      state.emit('onetime/created', { onetime: created })
      return created
    })
    return reply.code(201).send({ onetime })
  })

  app.put('/onetimes/:id', async (request) => {
    const state = sim.state
    const onetime = findOnetime(state, idParam(request))
    const body: Body = bodyOf(request, 'onetime')
    const date =
      body.next_charge_scheduled_at === undefined ? undefined : readFutureDate(state, body.next_charge_scheduled_at)
    const quantity = body.quantity === undefined ? undefined : readQuantity(body.quantity)
    const price = body.price === undefined ? undefined : parseMoney(body.price, state.decimals)
    if (price === null || (price !== undefined && price < 0)) throw fieldError('price', 'Not a valid number.')
    return sim.locks.write(onetime.address_id, () => {
      if (date) onetime.next_charge_scheduled_at = date
      if (quantity) onetime.quantity = quantity
      if (price !== undefined) onetime.price = state.money(price)
      if (typeof body.product_title === 'string') onetime.product_title = body.product_title
      if (Array.isArray(body.properties)) onetime.properties = body.properties as Onetime['properties']
      onetime.updated_at = state.timestamp()
      rebuildQueuedCharges(state, onetime.address_id)
      state.emit('onetime/updated', { onetime })
      return { onetime }
    })
  })

  app.delete('/onetimes/:id', async (request, reply) => {
    const state = sim.state
    const onetime = findOnetime(state, idParam(request))
    await sim.locks.write(onetime.address_id, () => {
      state.onetimes.delete(onetime.id)
      rebuildQueuedCharges(state, onetime.address_id)
      state.emit('onetime/deleted', { onetime: { id: onetime.id } })
    })
    return reply.code(204).send()
  })
}

function readFutureDate(state: SimState, value: unknown): string {
  if (!isDate(value)) throw fieldError('next_charge_scheduled_at', 'Not a valid date.')
  if (value <= state.today()) throw fieldError('next_charge_scheduled_at', 'date is not far enough in the future')
  return value
}

/** Recharge refuses onetimes on an address with no active subscription (a cancelled or inactive address). */
function assertActiveAddress(state: SimState, addressId: number): void {
  const address = state.addresses.get(addressId)
  const subscriptions = address ? state.subscriptions.ofCustomer(address.customer_id) : state.subscriptions.values()
  for (const subscription of subscriptions) {
    if (subscription.address_id === addressId && subscription.status === 'active') return
  }
  throw fieldError('address_id', 'Cannot add a onetime to an address without an active subscription.')
}

/** `add_to_next_charge: true`: the date of the address's next queued charge. */
function nextQueuedDate(state: SimState, addressId: number): string {
  let next: string | null = null
  const today = state.today()
  for (const charge of chargesNear(state, addressId)) {
    if (charge.address_id !== addressId || charge.status !== 'queued' || charge.scheduled_at <= today) continue
    if (next === null || charge.scheduled_at < next) next = charge.scheduled_at
  }
  if (next === null) throw fieldError('add_to_next_charge', 'There is no queued charge for this address.')
  return next
}

/** `external_product_id` is optional on a onetime: without it the variant is looked up across the catalog. */
function findOnetimeVariant(state: SimState, body: Body): ReturnType<typeof findVariant> {
  const variantId = readExternalId(body.external_variant_id)
  const productId = readExternalId(body.external_product_id)
  if (productId !== null || variantId === null) return findVariant(state, productId, variantId)
  for (const product of state.products.values()) {
    const variant = product.variants.find((candidate) => candidate.external_variant_id === variantId)
    if (variant) return { product, variant }
  }
  return null
}
