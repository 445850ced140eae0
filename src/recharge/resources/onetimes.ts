import { type PageRequest, pageQuery, pageSchema } from '../pagination.ts'
import { emptyBody } from '../schemas/common.ts'
import { onetimeEnvelope, onetimeSchema } from '../schemas/onetimes.ts'
import type { CallOptions, RechargeTransport } from '../types.ts'

const onetimePage = pageSchema('onetimes', onetimeSchema)

export interface OnetimeFilters {
  customer_id?: string
  address_id?: string
  ids?: readonly (string | number)[]
}

export interface OnetimeCreate {
  address_id: number
  external_variant_id: { ecommerce: string }
  external_product_id?: { ecommerce: string }
  /** Required unless `add_to_next_charge` puts the item on the address's next queued charge. */
  next_charge_scheduled_at?: string
  add_to_next_charge?: boolean
  quantity: number
  price?: string
  product_title?: string
  variant_title?: string
  properties?: { name: string; value: string }[]
}

export type OnetimeUpdate = Partial<Omit<OnetimeCreate, 'address_id' | 'add_to_next_charge'>>

/** Onetimes are children of an address: writes pass `options.addressId`; create locks the body's address. */
export function onetimesResource(transport: RechargeTransport) {
  const path = (id: string) => `/onetimes/${encodeURIComponent(id)}`
  return {
    list(filters: OnetimeFilters = {}, page?: PageRequest, options?: CallOptions) {
      return transport.send(
        { method: 'GET', path: '/onetimes', query: pageQuery({ ...filters }, page), schema: onetimePage },
        options,
      )
    },
    get(id: string, options?: CallOptions) {
      return transport.send({ method: 'GET', path: path(id), schema: onetimeEnvelope }, options)
    },
    create(body: OnetimeCreate, options?: CallOptions) {
      return transport.send(
        { method: 'POST', path: '/onetimes', body, schema: onetimeEnvelope },
        { ...options, addressId: options?.addressId ?? body.address_id },
      )
    },
    update(id: string, body: OnetimeUpdate, options?: CallOptions) {
      return transport.send({ method: 'PUT', path: path(id), body, schema: onetimeEnvelope }, options)
    },
    delete(id: string, options?: CallOptions) {
      return transport.send({ method: 'DELETE', path: path(id), schema: emptyBody }, options)
    },
  }
}
