import { type PageRequest, pageQuery, pageSchema } from '../pagination.ts'
import { chargeEnvelope, chargeSchema } from '../schemas/charges.ts'
import type { CallOptions, RechargeTransport } from '../types.ts'

/** Skip: a charge left out only withholds skip/unskip on it (see PageSchemaOptions). */
const chargePage = pageSchema('charges', chargeSchema, { unusableRows: 'skip' })

export interface ChargeFilters {
  customer_id?: string
  address_id?: string
  ids?: readonly (string | number)[]
  /** queued, skipped, success, error, refunded… (Recharge filters on upper or lower case). */
  status?: string
  scheduled_at_min?: string
  scheduled_at_max?: string
  processed_at_min?: string
  processed_at_max?: string
  sort_by?: 'id-asc' | 'id-desc' | 'scheduled_at-asc' | 'scheduled_at-desc' | 'updated_at-asc' | 'updated_at-desc'
}

/** Charges are children of an address: skip/unskip must pass `options.addressId` (the charge's address_id). */
export function chargesResource(transport: RechargeTransport) {
  const path = (id: string, action = '') => `/charges/${encodeURIComponent(id)}${action}`
  return {
    list(filters: ChargeFilters = {}, page?: PageRequest, options?: CallOptions) {
      return transport.send(
        { method: 'GET', path: '/charges', query: pageQuery({ ...filters }, page), schema: chargePage },
        options,
      )
    },
    get(id: string, options?: CallOptions) {
      return transport.send({ method: 'GET', path: path(id), schema: chargeEnvelope }, options)
    },
    /** Skip the given subscriptions/onetimes (purchase items) on this queued charge. */
    skip(id: string, purchaseItemIds: readonly string[], options?: CallOptions) {
      return transport.send(
        {
          method: 'POST',
          path: path(id, '/skip'),
          body: { purchase_item_ids: purchaseItemIds.map(Number) },
          schema: chargeEnvelope,
        },
        options,
      )
    },
    unskip(id: string, purchaseItemIds: readonly string[], options?: CallOptions) {
      return transport.send(
        {
          method: 'POST',
          path: path(id, '/unskip'),
          body: { purchase_item_ids: purchaseItemIds.map(Number) },
          schema: chargeEnvelope,
        },
        options,
      )
    },
  }
}
