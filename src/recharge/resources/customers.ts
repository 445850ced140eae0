import { z } from 'zod'
import { type PageRequest, pageQuery, pageSchema } from '../pagination.ts'
import {
  customerEnvelope,
  customerPortalEnvelope,
  customerSchema,
  deliveryScheduleSchema,
} from '../schemas/customers.ts'
import type { CallOptions, RechargeTransport } from '../types.ts'

const customerPage = pageSchema('customers', customerSchema)

/** `POST /customers/{id}/notifications` answers `{}` (nothing worth reading): any JSON object is success. */
const notificationAnswer = z
  .object({})
  .passthrough()
  .transform(() => undefined)

/** The templates a storefront may ask Recharge to email (the 2021-11 reference's `template_type`). */
export type NotificationTemplate =
  | 'get_account_access'
  | 'upcoming_charge'
  | 'shopify_update_payment_information'
  | 'shopify_migrate_payment_information'

export interface CustomerNotification {
  type: 'email'
  template_type: NotificationTemplate
  template_vars?: { address_id?: number; charge_id?: number; payment_method_id?: number }
}

export interface CustomerFilters {
  email?: string
  external_customer_id?: string
  ids?: readonly (string | number)[]
  updated_at_min?: string
}

export interface CustomerUpdate {
  email?: string
  first_name?: string
  last_name?: string
  phone?: string | null
  external_customer_id?: { ecommerce: string }
  tax_exempt?: boolean
}

export function customersResource(transport: RechargeTransport) {
  return {
    list(filters: CustomerFilters = {}, page?: PageRequest, options?: CallOptions) {
      return transport.send(
        { method: 'GET', path: '/customers', query: pageQuery({ ...filters }, page), schema: customerPage },
        options,
      )
    },
    /** The first customer with this email (Recharge emails are unique per store), or null. */
    async findByEmail(email: string, options?: CallOptions) {
      const page = await this.list({ email }, { limit: 1 }, options)
      return page.items[0] ?? null
    },
    /** The customer whose platform id (e.g. Shopify customer id) is this, or null. */
    async findByExternalId(externalCustomerId: string, options?: CallOptions) {
      const page = await this.list({ external_customer_id: externalCustomerId }, { limit: 1 }, options)
      return page.items[0] ?? null
    },
    get(id: string, options?: CallOptions) {
      return transport.send(
        { method: 'GET', path: `/customers/${encodeURIComponent(id)}`, schema: customerEnvelope },
        options,
      )
    },
    /** The customer's id and hosted-portal hash only (GET /customers/:id, the rest of the record left unparsed). */
    portalReference(id: string, options?: CallOptions) {
      return transport.send(
        { method: 'GET', path: `/customers/${encodeURIComponent(id)}`, schema: customerPortalEnvelope },
        options,
      )
    },
    update(id: string, body: CustomerUpdate, options?: CallOptions) {
      return transport.send(
        { method: 'PUT', path: `/customers/${encodeURIComponent(id)}`, body, schema: customerEnvelope },
        options,
      )
    },
    /**
     * Ask Recharge to email the customer (2021-11 `POST /customers/{id}/notifications`, body
     * `{"type": "email", "template_type", "template_vars"}`). Recharge keeps no list of sent notifications: a lost
     * answer cannot be confirmed by a read.
     */
    sendNotification(id: string, body: CustomerNotification, options?: CallOptions) {
      return transport.send(
        {
          method: 'POST',
          path: `/customers/${encodeURIComponent(id)}/notifications`,
          body,
          schema: notificationAnswer,
        },
        options,
      )
    },
    /** Upcoming deliveries (charges and onetimes projected forward), as Recharge computes them. */
    deliverySchedule(
      id: string,
      query: { future_interval?: number; delivery_count_future?: number } = {},
      options?: CallOptions,
    ) {
      return transport.send(
        {
          method: 'GET',
          path: `/customers/${encodeURIComponent(id)}/delivery_schedule`,
          query: { ...query },
          schema: deliveryScheduleSchema,
        },
        options,
      )
    },
  }
}
