import { z } from 'zod'
import { pageSchema } from '../recharge/pagination.ts'
import { externalRef, text } from '../recharge/schemas/common.ts'
import { id, nullish } from '../recharge/schemas/lenient.ts'
import type { CallOptions, RechargeTransport } from '../recharge/types.ts'

/**
 * The Recharge calls an import makes, with schemas that read only what matching needs: ids, the processor tokens of
 * payment methods, the postal fields of addresses and the import markers of subscriptions. Processor tokens are read
 * here and nowhere else, and never leave the import (reports name ids and steps, not tokens).
 */

const postal = {
  first_name: nullish(text),
  last_name: nullish(text),
  address1: nullish(text),
  address2: nullish(text),
  city: nullish(text),
  province: nullish(text),
  zip: nullish(text),
  country_code: nullish(text),
}

const existingAddress = z.object({ id, payment_method_id: nullish(id), ...postal })
const existingPaymentMethod = z.object({
  id,
  processor_name: nullish(z.string()),
  processor_customer_token: nullish(z.string()),
  processor_payment_method_token: nullish(z.string()),
})
const property = z.object({ name: text, value: z.unknown().transform((value) => String(value ?? '')) })
const existingSubscription = z.object({
  id,
  address_id: id,
  properties: nullish(z.array(z.unknown())).transform((list) =>
    (list ?? []).flatMap((entry) => {
      const parsed = property.safeParse(entry)
      return parsed.success ? [parsed.data] : []
    }),
  ),
})

export type ExistingAddress = z.output<typeof existingAddress>
export type ExistingPaymentMethod = z.output<typeof existingPaymentMethod>
export type ExistingSubscription = z.output<typeof existingSubscription>

const customerWithRecords = z.object({
  id,
  email: nullish(z.string()),
  external_customer_id: externalRef,
  include: z
    .object({
      addresses: z.array(existingAddress).default([]),
      payment_methods: z.array(existingPaymentMethod).default([]),
      subscriptions: z.array(existingSubscription).default([]),
    })
    .default({ addresses: [], payment_methods: [], subscriptions: [] }),
})
export type CustomerWithRecords = z.output<typeof customerWithRecords>

const customerPage = pageSchema('customers', customerWithRecords)
const created = (key: string) =>
  z.object({ [key]: z.object({ id }) }).transform((body) => (body[key] as { id: string }).id)

export interface CustomerCreate {
  email: string
  first_name: string
  last_name: string
  phone?: string
  external_customer_id?: { ecommerce: string }
}

export interface PaymentMethodCreate {
  customer_id: number
  default: boolean
  payment_type: string
  processor_name: string
  processor_customer_token: string
  processor_payment_method_token: string
  billing_address: Record<string, string>
}

export interface SubscriptionCreate {
  address_id: number
  external_product_id: { ecommerce: string }
  external_variant_id: { ecommerce: string }
  quantity: number
  price: string
  charge_interval_frequency: number
  order_interval_frequency: number
  order_interval_unit: string
  next_charge_scheduled_at: string
  properties: { name: string; value: string }[]
}

export function importUpstream(transport: RechargeTransport, options: () => CallOptions) {
  return {
    /** One customer with its addresses, payment methods and subscriptions in one call (2021-11 `include`). */
    async findCustomer(filter: { email: string } | { external_customer_id: string } | { ids: string }) {
      const page = await transport.send(
        {
          method: 'GET',
          path: '/customers',
          query: { ...filter, limit: 1, include: 'addresses,payment_methods,subscriptions' },
          schema: customerPage,
        },
        options(),
      )
      return page.items[0] ?? null
    },
    createCustomer(body: CustomerCreate) {
      return transport.send({ method: 'POST', path: '/customers', body, schema: created('customer') }, options())
    },
    createPaymentMethod(body: PaymentMethodCreate) {
      return transport.send(
        { method: 'POST', path: '/payment_methods', body, schema: created('payment_method') },
        options(),
      )
    },
    createAddress(body: Record<string, unknown>) {
      return transport.send({ method: 'POST', path: '/addresses', body, schema: created('address') }, options())
    },
    createSubscription(body: SubscriptionCreate) {
      return transport.send(
        { method: 'POST', path: '/subscriptions', body, schema: created('subscription') },
        { ...options(), addressId: body.address_id },
      )
    },
  }
}

export type ImportUpstream = ReturnType<typeof importUpstream>
