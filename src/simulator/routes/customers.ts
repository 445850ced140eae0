import type { FastifyInstance } from 'fastify'
import type { Simulator } from '../context.ts'
import { createCustomer } from '../customer-rules.ts'
import { addInterval } from '../dates.ts'
import { fieldError, missingRequired, notFound, SimError } from '../errors.ts'
import { paginate, parseListQuery } from '../pagination.ts'
import type { SimState } from '../state.ts'
import type { Customer } from '../types.ts'
import { customerView, subscriptionCounts } from '../views.ts'
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
    const matches = [...state.customers.values()].filter(
      (customer) =>
        (email === undefined || customer.email.toLowerCase() === email.toLowerCase()) &&
        (externalId === undefined || customer.external_customer_id.ecommerce === externalId) &&
        (ids === null || ids.has(customer.id)) &&
        inRange(customer),
    )
    const page = paginate(matches, query, (customer, field) => String(customer[field as keyof Customer]))
    const counts = subscriptionCounts(state)
    return listEnvelope('customers', page, (customer) => customerView(state, customer, counts))
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
    if ([...state.customers.values()].some((customer) => customer.email.toLowerCase() === email.toLowerCase())) {
      throw new SimError(422, { errors: { email: 'email already exists on store' } })
    }
    const customer = createCustomer(state, {
      email,
      firstName: String(body.first_name),
      lastName: String(body.last_name),
      externalId: readExternal(body.external_customer_id),
    })
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
    if (Object.keys(errors).length > 0) throw new SimError(422, { errors })
    if (typeof body.email === 'string' && body.email.toLowerCase() !== customer.email.toLowerCase()) {
      const taken = [...state.customers.values()].some(
        (other) => other.email.toLowerCase() === String(body.email).toLowerCase(),
      )
      if (taken) throw new SimError(422, { errors: { email: 'email already exists on store' } })
      customer.email = body.email
    }
    if (typeof body.first_name === 'string') customer.first_name = body.first_name
    if (typeof body.last_name === 'string') customer.last_name = body.last_name
    if (body.external_customer_id !== undefined)
      customer.external_customer_id = { ecommerce: readExternal(body.external_customer_id) }
    customer.updated_at = state.naiveTimestamp()
    const view = customerView(state, customer)
    state.emit('customer/updated', { customer: view })
    return { customer: view }
  })

  app.delete('/customers/:id', async (request, reply) => {
    const state = sim.state
    const customer = findCustomer(state, idParam(request))
    for (const [id, address] of state.addresses) if (address.customer_id === customer.id) state.addresses.delete(id)
    for (const [id, subscription] of state.subscriptions)
      if (subscription.customer_id === customer.id) state.subscriptions.delete(id)
    for (const [id, onetime] of state.onetimes) if (onetime.customer_id === customer.id) state.onetimes.delete(id)
    for (const [id, charge] of state.charges)
      if (charge.customer.id === customer.id && charge.status === 'queued') state.charges.delete(id)
    state.customers.delete(customer.id)
    state.emit('customer/deleted', { customer: { id: customer.id } })
    return reply.code(204).send()
  })

  app.get('/customers/:id/delivery_schedule', async (request) => {
    const state = sim.state
    const customer = findCustomer(state, idParam(request))
    const query = request.query as Record<string, string | undefined>
    const count = Math.min(Math.max(Number(query.delivery_count_future ?? 7) || 7, 0), 100)
    return deliverySchedule(state, customer, count)
  })
}

function readExternal(value: unknown): string | null {
  if (typeof value === 'string' && value !== '') return value
  if (value && typeof value === 'object' && typeof (value as { ecommerce?: unknown }).ecommerce === 'string') {
    return (value as { ecommerce: string }).ecommerce
  }
  return null
}

/**
 * Upcoming deliveries: every active subscription projected forward by its interval (plus queued onetimes),
 * grouped by date and address, first `count` dates. `charge_id` is set where a queued charge already exists.
 */
function deliverySchedule(state: SimState, customer: Customer, count: number) {
  const byDate = new Map<string, Map<number, ReturnType<typeof deliveryLine>[]>>()
  const add = (date: string, addressId: number, line: ReturnType<typeof deliveryLine>) => {
    let byAddress = byDate.get(date)
    if (!byAddress) {
      byAddress = new Map()
      byDate.set(date, byAddress)
    }
    const lines = byAddress.get(addressId)
    if (lines) lines.push(line)
    else byAddress.set(addressId, [line])
  }
  for (const subscription of state.subscriptions.values()) {
    if (
      subscription.customer_id !== customer.id ||
      subscription.status !== 'active' ||
      !subscription.next_charge_scheduled_at
    )
      continue
    let date = subscription.next_charge_scheduled_at
    for (let index = 0; index < count; index += 1) {
      add(date, subscription.address_id, deliveryLine(state, subscription, 'subscription'))
      date = addInterval(date, subscription.order_interval_frequency, subscription.order_interval_unit)
    }
  }
  for (const onetime of state.onetimes.values()) {
    if (onetime.customer_id !== customer.id || onetime.is_cancelled) continue
    add(onetime.next_charge_scheduled_at, onetime.address_id, deliveryLine(state, onetime, 'onetime'))
  }
  const dates = [...byDate.keys()].sort().slice(0, count)
  return {
    customer: {
      id: customer.id,
      email: customer.email,
      first_name: customer.first_name,
      last_name: customer.last_name,
    },
    deliveries: dates.map((date) => ({
      date,
      orders: [...(byDate.get(date) as Map<number, ReturnType<typeof deliveryLine>[]>)].map(([addressId, lines]) => {
        const address = state.addresses.get(addressId)
        const paymentMethod = address?.payment_method_id
          ? state.paymentMethods.get(address.payment_method_id)
          : undefined
        const charge = [...state.charges.values()].find(
          (candidate) =>
            candidate.status === 'queued' && candidate.address_id === addressId && candidate.scheduled_at === date,
        )
        const postal = (source: typeof address | undefined) => ({
          address1: source?.address1 ?? null,
          address2: source?.address2 ?? null,
          city: source?.city ?? null,
          company: source?.company ?? null,
          country_code: source?.country_code ?? null,
          first_name: source?.first_name ?? null,
          last_name: source?.last_name ?? null,
          phone: source?.phone ?? null,
          province: source?.province ?? null,
          zip: source?.zip ?? null,
        })
        const billing = paymentMethod?.billing_address
        return {
          id: null,
          address_id: addressId,
          charge_id: charge?.id ?? null,
          line_items: lines,
          payment_method: {
            id: paymentMethod?.id ?? null,
            billing_address: {
              address1: billing?.address1 ?? null,
              address2: billing?.address2 ?? null,
              city: billing?.city ?? null,
              company: billing?.company ?? null,
              country_code: billing?.country_code ?? null,
              first_name: billing?.first_name ?? null,
              last_name: billing?.last_name ?? null,
              phone: billing?.phone ?? null,
              province: billing?.province ?? null,
              zip: billing?.zip ?? null,
            },
            payment_details: {},
          },
          shipping_address: postal(address),
        }
      }),
    })),
  }
}

function deliveryLine(
  state: SimState,
  item: {
    id: number
    external_product_id: { ecommerce: string | null }
    external_variant_id: { ecommerce: string | null }
    product_title: string
    properties: { name: string; value: string }[]
    quantity: number
    price: string
    variant_title: string
  },
  planType: 'subscription' | 'onetime',
) {
  const product = item.external_product_id.ecommerce
    ? state.products.get(item.external_product_id.ecommerce)
    : undefined
  const variant = product?.variants.find(
    (candidate) => candidate.external_variant_id === item.external_variant_id.ecommerce,
  )
  const unit = Number(item.price)
  return {
    subscription_id: item.id,
    external_product_id: { ...item.external_product_id },
    external_variant_id: { ...item.external_variant_id },
    images: variant ? { ...variant.image } : {},
    is_skippable: planType === 'subscription',
    plan_type: planType,
    product_title: item.product_title,
    properties: item.properties.map((property) => ({ ...property })),
    quantity: item.quantity,
    subtotal_price: state.money(Math.round(unit * item.quantity * 10 ** state.decimals)),
    unit_price: item.price,
    variant_title: item.variant_title,
  }
}
