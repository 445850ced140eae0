import type { FastifyInstance } from 'fastify'
import type { Simulator } from '../context.ts'
import { createCustomer } from '../customer-rules.ts'
import { fieldError, missingRequired, notFound, SimError } from '../errors.ts'
import { paginate, parseListQuery } from '../pagination.ts'
import type { SimState } from '../state.ts'
import type { Customer } from '../types.ts'
import { customerView, subscriptionView } from '../views.ts'
import { bodyOf, dateRangeFilter, idParam, idsFilter, listEnvelope } from './helpers.ts'

const SORTS = ['id-asc', 'id-desc', 'created_at-asc', 'created_at-desc', 'updated_at-asc', 'updated_at-desc']

export function findCustomer(state: SimState, id: number): Customer {
  const customer = state.customers.get(id)
  if (!customer) throw notFound()
  return customer
}

export async function customerRoutes(app: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  app.get('/customers', async (request) => {
    const state = sim.state
    const query = parseListQuery(request.query as Record<string, unknown>, { defaultSort: 'id-desc', sorts: SORTS })
    const { email, external_customer_id: externalId } = query.filters
    const ids = idsFilter(query.filters.ids)
    const inRange = dateRangeFilter(query.filters)
    // An email or external id lookup reads its index: the mirror and token minting ask this of a large store.
    const candidates =
      email !== undefined
        ? state.customers.byEmail(email)
        : externalId !== undefined
          ? state.customers.byExternalId(externalId)
          : state.customers.values()
    const matches = [...candidates].filter(
      (customer) =>
        (email === undefined || customer.email.toLowerCase() === email.toLowerCase()) &&
        (externalId === undefined || customer.external_customer_id.ecommerce === externalId) &&
        (ids === null || ids.has(customer.id)) &&
        inRange(customer),
    )
    const page = paginate(matches, query, (customer, field) => String(customer[field as keyof Customer]))
    const include = customerIncludes((request.query as Record<string, unknown>).include)
    return listEnvelope('customers', page, (customer) => withIncludes(state, customerView(state, customer), include))
  })

  app.get('/customers/:id', async (request) => {
    const state = sim.state
    return { customer: customerView(state, findCustomer(state, idParam(request))) }
  })

  app.post('/customers', async (request, reply) => {
    const state = sim.state
    const body = bodyOf(request, 'customer')
    const missing = ['email', 'first_name', 'last_name'].filter(
      (key) => typeof body[key] !== 'string' || body[key] === '',
    )
    if (missing.length > 0) throw missingRequired(missing)
    const email = String(body.email)
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw fieldError('email', 'Not a valid email address.')
    if (state.customers.byEmail(email).length > 0) {
      throw new SimError(422, { errors: { email: 'email already exists on store' } })
    }
    const customer = createCustomer(state, {
      email,
      firstName: String(body.first_name),
      lastName: String(body.last_name),
      externalId: readExternal(body.external_customer_id),
    })
    if (typeof body.phone === 'string' && body.phone !== '') customer.phone = body.phone
    return reply.code(201).send({ customer: customerView(state, customer) })
  })

  app.put('/customers/:id', async (request) => {
    const state = sim.state
    const customer = findCustomer(state, idParam(request))
    const body = bodyOf(request, 'customer')
    const errors: Record<string, string[]> = {}
    for (const key of ['first_name', 'last_name', 'email'] as const) {
      if (body[key] === undefined) continue
      if (typeof body[key] !== 'string' || body[key] === '') errors[key] = ['Shorter than minimum length 1.']
    }
    if (body.phone !== undefined && body.phone !== null && typeof body.phone !== 'string')
      errors.phone = ['Not a valid string.']
    if (Object.keys(errors).length > 0) throw new SimError(422, { errors })
    if (typeof body.email === 'string' && body.email.toLowerCase() !== customer.email.toLowerCase()) {
      if (state.customers.byEmail(body.email).length > 0)
        throw new SimError(422, { errors: { email: 'email already exists on store' } })
      customer.email = body.email
    }
    if (typeof body.first_name === 'string') customer.first_name = body.first_name
    if (typeof body.last_name === 'string') customer.last_name = body.last_name
    if (body.phone !== undefined) customer.phone = body.phone === '' ? null : (body.phone as string | null)
    if (body.external_customer_id !== undefined)
      customer.external_customer_id = { ecommerce: readExternal(body.external_customer_id) }
    customer.updated_at = state.naiveTimestamp()
    state.customers.set(customer.id, customer) // re-indexes a changed email or external id
    const view = customerView(state, customer)
    state.emit('customer/updated', { customer: view })
    return { customer: view }
  })

  app.delete('/customers/:id', async (request, reply) => {
    const state = sim.state
    const customer = findCustomer(state, idParam(request))
    for (const address of state.addresses.ofCustomer(customer.id)) state.addresses.delete(address.id)
    for (const subscription of state.subscriptions.ofCustomer(customer.id)) state.subscriptions.delete(subscription.id)
    for (const onetime of state.onetimes.ofCustomer(customer.id)) state.onetimes.delete(onetime.id)
    for (const charge of state.charges.ofCustomer(customer.id))
      if (charge.status === 'queued') state.charges.delete(charge.id)
    state.customers.delete(customer.id)
    state.emit('customer/deleted', { customer: { id: customer.id } })
    return reply.code(204).send()
  })
}

/** The `include` values a customer list honours (2021-11: addresses, metafields, payment_methods, subscriptions). */
const CUSTOMER_INCLUDES = ['addresses', 'payment_methods', 'subscriptions'] as const
type CustomerInclude = (typeof CUSTOMER_INCLUDES)[number]

function customerIncludes(value: unknown): Set<CustomerInclude> {
  const names = typeof value === 'string' ? value.split(',').map((part) => part.trim()) : []
  return new Set(CUSTOMER_INCLUDES.filter((name) => names.includes(name)))
}

/** Recharge nests included objects under the record's `include` key. */
function withIncludes(state: SimState, view: ReturnType<typeof customerView>, include: Set<CustomerInclude>) {
  if (include.size === 0) return view
  const included: Record<string, unknown[]> = {}
  if (include.has('addresses')) included.addresses = [...state.addresses.ofCustomer(view.id)]
  if (include.has('payment_methods')) included.payment_methods = [...state.paymentMethods.ofCustomer(view.id)]
  if (include.has('subscriptions'))
    included.subscriptions = [...state.subscriptions.ofCustomer(view.id)].map((sub) => subscriptionView(state, sub))
  return { ...view, include: included }
}

function readExternal(value: unknown): string | null {
  if (typeof value === 'string' && value !== '') return value
  if (value && typeof value === 'object' && typeof (value as { ecommerce?: unknown }).ecommerce === 'string') {
    return (value as { ecommerce: string }).ecommerce
  }
  return null
}
