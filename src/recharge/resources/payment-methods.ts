import { type PageRequest, pageQuery, pageSchema } from '../pagination.ts'
import { paymentMethodEnvelope, paymentMethodSchema } from '../schemas/payment-methods.ts'
import type { CallOptions, RechargeTransport } from '../types.ts'

const paymentMethodPage = pageSchema('payment_methods', paymentMethodSchema)

/** Read-only: display fields (brand, last4, expiry, billing address). Processor tokens are never parsed. */
export function paymentMethodsResource(transport: RechargeTransport) {
  return {
    list(filters: { customer_id?: string } = {}, page?: PageRequest, options?: CallOptions) {
      return transport.send(
        { method: 'GET', path: '/payment_methods', query: pageQuery({ ...filters }, page), schema: paymentMethodPage },
        options,
      )
    },
    get(id: string, options?: CallOptions) {
      return transport.send(
        { method: 'GET', path: `/payment_methods/${encodeURIComponent(id)}`, schema: paymentMethodEnvelope },
        options,
      )
    },
  }
}
