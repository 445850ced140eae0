import type { FastifyInstance } from 'fastify'
import type { Simulator } from '../context.ts'
import { readAddressDiscount, setAddressDiscount } from '../discount-rules.ts'
import { notFound, SimError } from '../errors.ts'
import { paginate, parseListQuery } from '../pagination.ts'
import { POSTAL_FIELDS, postalOf, readPostal } from '../postal.ts'
import { chargesNear } from '../scheduling.ts'
import type { SimState } from '../state.ts'
import type { Address } from '../types.ts'
import { findCustomer } from './customers.ts'
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

const SORTS = ['id-asc', 'id-desc', 'updated_at-asc', 'updated_at-desc']
/** The order Recharge lists missing fields in (recorded `create-address_422_no-data-provided`). */
const REQUIRED = ['city', 'country_code', 'first_name', 'province', 'last_name', 'customer_id', 'address1'] as const
const NOT_NULL = ['address1', 'city', 'country_code', 'first_name', 'last_name'] as const

export function findAddress(state: SimState, id: number): Address {
  const address = state.addresses.get(id)
  if (!address) throw notFound()
  return address
}

export async function addressRoutes(app: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  app.get('/addresses', async (request) => {
    const state = sim.state
    const query = parseListQuery(request.query as Record<string, unknown>, { defaultSort: 'id-desc', sorts: SORTS })
    const customerId = intFilter(query.filters.customer_id, 'customer_id')
    const ids = idsFilter(query.filters.ids)
    const inRange = dateRangeFilter(query.filters)
    const matches = [...scopedRecords(state, state.addresses, { customerId })].filter(
      (address) =>
        (customerId === null || address.customer_id === customerId) &&
        (ids === null || ids.has(address.id)) &&
        inRange(address),
    )
    const page = paginate(matches, query, (address, field) => String(address[field as keyof Address]))
    return listEnvelope('addresses', page, (address) => address)
  })

  app.get('/addresses/:id', async (request) => ({ address: findAddress(sim.state, idParam(request)) }))

  app.post('/addresses', async (request, reply) => {
    const state = sim.state
    const body = bodyOf(request, 'address')
    const missing = REQUIRED.filter((key) => body[key] === undefined || body[key] === null || body[key] === '')
    if (missing.length > 0) {
      const sentence = `${missing.join(', ')} are required fields.`
      throw new SimError(422, { errors: { _schema: [sentence, sentence] } })
    }
    const customer = findCustomerForBody(state, body.customer_id)
    const now = state.timestamp()
    const address: Address = {
      id: state.nextId('address', 92_000_001),
      customer_id: customer,
      payment_method_id:
        typeof body.payment_method_id === 'number' ? body.payment_method_id : defaultPaymentMethod(state, customer),
      ...readPostal(body),
      created_at: now,
      discounts: [],
      order_attributes: Array.isArray(body.order_attributes)
        ? (body.order_attributes as Address['order_attributes'])
        : [],
      order_note: typeof body.order_note === 'string' ? body.order_note : null,
      presentment_currency:
        typeof body.presentment_currency === 'string' ? body.presentment_currency : state.options.currency,
      shipping_lines_override: [],
      updated_at: now,
    }
    state.addresses.set(address.id, address)
    state.emit('address/created', { address })
    return reply.code(201).send({ address })
  })

  app.put('/addresses/:id', async (request) => {
    const state = sim.state
    const address = findAddress(state, idParam(request))
    const body = bodyOf(request, 'address')
    const errors: Record<string, string[]> = {}
    for (const key of NOT_NULL) {
      if (key in body && (body[key] === null || body[key] === '')) errors[key] = ['Field may not be null.']
    }
    if (Object.keys(errors).length > 0) throw new SimError(422, { errors })
    return sim.locks.write(address.id, () => {
      if (body.discounts !== undefined)
        setAddressDiscount(state, address, readAddressDiscount(state, address, body.discounts))
      updateAddress(state, address, body)
      return { address }
    })
  })

  app.delete('/addresses/:id', async (request, reply) => {
    const state = sim.state
    const address = findAddress(state, idParam(request))
    const active = [...state.subscriptions.values()].some(
      (sub) => sub.address_id === address.id && sub.status === 'active',
    )
    if (active) throw new SimError(422, { errors: { subscriptions: ['Address has active subscriptions'] } })
    await sim.locks.write(address.id, () => {
      state.addresses.delete(address.id)
      for (const [id, charge] of state.charges)
        if (charge.address_id === address.id && charge.status === 'queued') state.charges.delete(id)
    })
    return reply.code(204).send()
  })
}

export function updateAddress(state: SimState, address: Address, body: Body): void {
  for (const key of POSTAL_FIELDS) {
    if (key in body) address[key] = body[key] === null ? null : String(body[key])
  }
  if (typeof body.order_note === 'string' || body.order_note === null)
    address.order_note = body.order_note as string | null
  if (Array.isArray(body.order_attributes))
    address.order_attributes = body.order_attributes as Address['order_attributes']
  if (typeof body.payment_method_id === 'number') address.payment_method_id = body.payment_method_id
  address.updated_at = state.timestamp()
  const postal = postalOf(address)
  for (const charge of chargesNear(state, address.id)) {
    if (charge.address_id !== address.id || charge.status !== 'queued') continue
    charge.shipping_address = { ...postal }
    charge.updated_at = address.updated_at
  }
  state.emit('address/updated', { address })
}

function findCustomerForBody(state: SimState, value: unknown): number {
  const id = Number(value)
  if (!Number.isSafeInteger(id)) throw new SimError(422, { errors: { customer_id: ['Not a valid integer.'] } })
  if (!state.customers.has(id)) throw new SimError(422, { errors: { customer_id: ['Customer not found.'] } })
  return findCustomer(state, id).id
}

export function defaultPaymentMethod(state: SimState, customerId: number): number | null {
  for (const method of state.paymentMethods.values())
    if (method.customer_id === customerId && method.default) return method.id
  return null
}
