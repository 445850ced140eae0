import { type PageRequest, pageQuery, pageSchema } from '../pagination.ts'
import { addressEnvelope, addressSchema } from '../schemas/addresses.ts'
import { chargeEnvelope } from '../schemas/charges.ts'
import type { CallOptions, RechargeTransport } from '../types.ts'

/** Skip: an address left out is only withheld from its shopper (see PageSchemaOptions). */
const addressPage = pageSchema('addresses', addressSchema, { unusableRows: 'skip' })

export interface AddressFilters {
  customer_id?: string
  ids?: readonly (string | number)[]
  updated_at_min?: string
}

export interface AddressUpdate {
  address1?: string
  address2?: string | null
  city?: string
  company?: string | null
  country_code?: string
  first_name?: string
  last_name?: string
  phone?: string | null
  province?: string | null
  zip?: string
  order_note?: string | null
  order_attributes?: { name: string; value: string }[]
}

export interface AddressCreate {
  customer_id: number
  first_name: string
  last_name: string
  address1: string
  address2?: string | null
  city: string
  province: string
  zip?: string
  country_code: string
  company?: string | null
  phone?: string | null
}

export function addressesResource(transport: RechargeTransport) {
  return {
    list(filters: AddressFilters = {}, page?: PageRequest, options?: CallOptions) {
      return transport.send(
        { method: 'GET', path: '/addresses', query: pageQuery({ ...filters }, page), schema: addressPage },
        options,
      )
    },
    get(id: string, options?: CallOptions) {
      return transport.send(
        { method: 'GET', path: `/addresses/${encodeURIComponent(id)}`, schema: addressEnvelope },
        options,
      )
    },
    /** A new address of the customer (it takes the customer's default payment method unless told otherwise). */
    create(body: AddressCreate, options?: CallOptions) {
      return transport.send({ method: 'POST', path: '/addresses', body, schema: addressEnvelope }, options)
    },
    /** A write under the address itself: serialised with every other write under it. */
    update(id: string, body: AddressUpdate, options?: CallOptions) {
      return transport.send(
        { method: 'PUT', path: `/addresses/${encodeURIComponent(id)}`, body, schema: addressEnvelope },
        { ...options, addressId: id },
      )
    },
    /** Skip these subscriptions on a delivery date of the address, whether or not a charge exists for it yet. */
    skipFutureCharge(id: string, date: string, subscriptionIds: readonly string[], options?: CallOptions) {
      return transport.send(
        {
          method: 'POST',
          path: `/addresses/${encodeURIComponent(id)}/charges/skip`,
          body: { date, subscription_ids: subscriptionIds.map(Number) },
          schema: chargeEnvelope,
        },
        { ...options, addressId: id },
      )
    },
  }
}
