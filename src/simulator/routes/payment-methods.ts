import type { FastifyInstance } from 'fastify'
import type { Simulator } from '../context.ts'
import { fieldError, notFound, SimError } from '../errors.ts'
import { readProcessorTokens } from '../processor-tokens.ts'
import type { SimState } from '../state.ts'
import type { PaymentMethod } from '../types.ts'
import { bodyOf, idParam, intFilter } from './helpers.ts'

const BILLING_FIELDS = [
  'address1',
  'address2',
  'city',
  'company',
  'country',
  'country_code',
  'first_name',
  'last_name',
  'phone',
  'province',
  'zip',
] as const

function findPaymentMethod(state: SimState, id: number): PaymentMethod {
  const method = state.paymentMethods.get(id)
  if (!method) throw notFound()
  return method
}

/**
 * Payment methods. The recorded list response carries no cursor keys (unlike every other list), so neither does
 * this one.
 */
export async function paymentMethodRoutes(app: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  app.get('/payment_methods', async (request) => {
    const state = sim.state
    const query = request.query as Record<string, string | undefined>
    const customerId = intFilter(query.customer_id, 'customer_id')
    const methods = [
      ...(customerId === null ? state.paymentMethods.values() : state.paymentMethods.ofCustomer(customerId)),
    ]
      .filter((method) => customerId === null || method.customer_id === customerId)
      .sort((a, b) => b.id - a.id)
    return { payment_methods: methods }
  })

  app.get('/payment_methods/:id', async (request) => ({
    payment_method: findPaymentMethod(sim.state, idParam(request)),
  }))

  app.post('/payment_methods', async (request, reply) => {
    const state = sim.state
    const body = bodyOf(request, 'payment_method')
    const customerId = Number(body.customer_id)
    if (!state.customers.has(customerId)) throw fieldError('customer_id', 'Not found')
    const tokens = readProcessorTokens(body)
    const now = state.naiveTimestamp()
    const last4 = tokens.paymentMethodToken.replace(/\D/g, '').slice(-4).padStart(4, '4')
    const method: PaymentMethod = {
      id: state.nextId('payment_method', 55_000_001),
      customer_id: customerId,
      billing_address: readBilling(body.billing_address),
      created_at: now,
      default: body.default === true || state.paymentMethods.ofCustomer(customerId).length === 0,
      include: {},
      payment_details: { brand: 'visa', exp_month: 12, exp_year: 2031, last4 },
      payment_type: tokens.paymentType,
      processor_customer_token: tokens.customerToken,
      processor_name: tokens.processorName,
      processor_payment_method_token: tokens.paymentMethodToken,
      status: null,
      status_reason: null,
      updated_at: now,
    }
    state.paymentMethods.set(method.id, method)
    return reply.code(201).send({ payment_method: method })
  })

  app.put('/payment_methods/:id', async (request) => {
    const state = sim.state
    const method = findPaymentMethod(state, idParam(request))
    const body = bodyOf(request, 'payment_method')
    if (body.billing_address !== undefined) {
      const billing = body.billing_address as Record<string, unknown> | null
      const errors: Record<string, string[]> = {}
      for (const key of ['address1', 'city', 'country_code', 'first_name', 'last_name']) {
        if (
          !billing ||
          (key in billing && billing[key] === null) ||
          (key === 'address1' && !billing[key] && !method.billing_address.address1)
        ) {
          errors[key] = ['Field may not be null.']
        }
      }
      if (Object.keys(errors).length > 0) throw new SimError(422, { errors: { billing_address: errors } })
      method.billing_address = { ...method.billing_address, ...pickBilling(billing as Record<string, unknown>) }
    }
    if (typeof body.default === 'boolean') method.default = body.default
    method.updated_at = state.naiveTimestamp()
    return { payment_method: method }
  })

  app.delete('/payment_methods/:id', async (request, reply) => {
    const state = sim.state
    const method = findPaymentMethod(state, idParam(request))
    if ([...state.addresses.values()].some((address) => address.payment_method_id === method.id)) {
      throw new SimError(422, { errors: { address: ['Can not delete payment method associated with addresses'] } })
    }
    state.paymentMethods.delete(method.id)
    return reply.code(204).send()
  })
}

function readBilling(value: unknown): PaymentMethod['billing_address'] {
  const billing = {} as PaymentMethod['billing_address']
  const source = value && typeof value === 'object' ? (value as Record<string, unknown>) : {}
  for (const key of BILLING_FIELDS) billing[key] = source[key] == null ? null : String(source[key])
  return billing
}

function pickBilling(source: Record<string, unknown>): Partial<PaymentMethod['billing_address']> {
  const picked: Partial<PaymentMethod['billing_address']> = {}
  for (const key of BILLING_FIELDS) if (key in source) picked[key] = source[key] == null ? null : String(source[key])
  return picked
}
