import { type PageRequest, pageQuery, pageSchema } from '../pagination.ts'
import { emptyBody } from '../schemas/common.ts'
import { subscriptionEnvelope, subscriptionSchema } from '../schemas/subscriptions.ts'
import type { CallOptions, RechargeTransport } from '../types.ts'

/** Skip: a shopper's list serves the rows it can; a row left out is only withheld (see PageSchemaOptions). */
const subscriptionPage = pageSchema('subscriptions', subscriptionSchema, { unusableRows: 'skip' })

export interface SubscriptionFilters {
  customer_id?: string
  address_id?: string
  ids?: readonly (string | number)[]
  status?: 'active' | 'cancelled' | 'expired'
  external_variant_id?: string
  updated_at_min?: string
}

export interface SubscriptionUpdate {
  quantity?: number
  external_variant_id?: { ecommerce: string }
  external_product_id?: { ecommerce: string }
  price?: string
  product_title?: string
  variant_title?: string
  sku?: string | null
  order_interval_frequency?: number
  order_interval_unit?: 'day' | 'week' | 'month'
  charge_interval_frequency?: number
  order_day_of_month?: number | null
  order_day_of_week?: number | null
  properties?: { name: string; value: string }[]
  /** Ask Recharge to recompute the queued charge at once instead of asynchronously. */
  commit?: boolean
}

export interface CancelRequest {
  cancellation_reason: string
  cancellation_reason_comments?: string
  send_email?: boolean
}

/**
 * Subscriptions are children of an address: every write must pass `options.addressId` (the subscription's
 * address_id, known from the ownership check) so it is serialised with other writes under that address.
 */
export function subscriptionsResource(transport: RechargeTransport) {
  const path = (id: string, action = '') => `/subscriptions/${encodeURIComponent(id)}${action}`
  return {
    list(filters: SubscriptionFilters = {}, page?: PageRequest, options?: CallOptions) {
      return transport.send(
        { method: 'GET', path: '/subscriptions', query: pageQuery({ ...filters }, page), schema: subscriptionPage },
        options,
      )
    },
    get(id: string, options?: CallOptions) {
      return transport.send({ method: 'GET', path: path(id), schema: subscriptionEnvelope }, options)
    },
    update(id: string, body: SubscriptionUpdate, options?: CallOptions) {
      const { commit, ...fields } = body
      return transport.send(
        {
          method: 'PUT',
          path: path(id),
          query: commit ? { commit: true } : undefined,
          body: fields,
          schema: subscriptionEnvelope,
        },
        options,
      )
    },
    cancel(id: string, body: CancelRequest, options?: CallOptions) {
      return transport.send({ method: 'POST', path: path(id, '/cancel'), body, schema: subscriptionEnvelope }, options)
    },
    activate(id: string, options?: CallOptions) {
      return transport.send(
        { method: 'POST', path: path(id, '/activate'), body: {}, schema: subscriptionEnvelope },
        options,
      )
    },
    /** `date` is YYYY-MM-DD in the store's timezone. */
    setNextChargeDate(id: string, date: string, options?: CallOptions) {
      return transport.send(
        { method: 'POST', path: path(id, '/set_next_charge_date'), body: { date }, schema: subscriptionEnvelope },
        options,
      )
    },
    /**
     * A pause as the storefront SDK asks for one: the next charge moves to `date` with the `pause` flag, and Recharge
     * emits subscription/paused. 2021-11 keeps no paused status: the subscription stays active with that date.
     */
    pause(id: string, date: string, options?: CallOptions) {
      return transport.send(
        {
          method: 'POST',
          path: path(id, '/set_next_charge_date'),
          query: { pause: true },
          body: { date },
          schema: subscriptionEnvelope,
        },
        options,
      )
    },
    /** Moves the subscription to another address of the same customer (lock the source address). */
    changeAddress(id: string, addressId: string, options?: CallOptions & { nextChargeScheduledAt?: string }) {
      const { nextChargeScheduledAt, ...callOptions } = options ?? {}
      return transport.send(
        {
          method: 'POST',
          path: path(id, '/change_address'),
          body: {
            address_id: Number(addressId),
            ...(nextChargeScheduledAt ? { next_charge_scheduled_at: nextChargeScheduledAt } : {}),
          },
          schema: subscriptionEnvelope,
        },
        callOptions,
      )
    },
    delete(id: string, options?: CallOptions) {
      return transport.send({ method: 'DELETE', path: path(id), schema: emptyBody }, options)
    },
  }
}
