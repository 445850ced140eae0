import {
  checkoutChargeEnvelopeSchema,
  checkoutEnvelopeSchema,
  shippingRatesEnvelopeSchema,
  type UpstreamCheckout,
  type UpstreamCheckoutCharge,
  type UpstreamCheckoutChargeBody,
  type UpstreamCheckoutCreateBody,
  type UpstreamCheckoutUpdateBody,
  type UpstreamShippingRate,
} from '../schemas/checkouts.ts'
import type { CallOptions, RechargeTransport } from '../types.ts'

/**
 * Recharge Checkouts API (2021-11; BigCommerce and Custom stores only). Tokens are opaque strings chosen by
 * Recharge: they are path-encoded here, never interpolated raw.
 *
 * `charge` is the one upstream call that must never be repeated by us: the transport does not retry POSTs (except
 * after a 429, which Recharge did not process), and callers decide what an uncertain outcome means.
 */
export function checkoutsResource(transport: RechargeTransport) {
  const path = (token: string, suffix = '') => `/checkouts/${encodeURIComponent(token)}${suffix}`
  return {
    create(body: UpstreamCheckoutCreateBody, options?: CallOptions): Promise<UpstreamCheckout> {
      return transport.send({ method: 'POST', path: '/checkouts', body, schema: checkoutEnvelopeSchema }, options)
    },
    get(token: string, options?: CallOptions): Promise<UpstreamCheckout> {
      return transport.send({ method: 'GET', path: path(token), schema: checkoutEnvelopeSchema }, options)
    },
    update(token: string, body: UpstreamCheckoutUpdateBody, options?: CallOptions): Promise<UpstreamCheckout> {
      return transport.send({ method: 'PUT', path: path(token), body, schema: checkoutEnvelopeSchema }, options)
    },
    shippingRates(token: string, options?: CallOptions): Promise<UpstreamShippingRate[]> {
      return transport.send(
        { method: 'GET', path: path(token, '/shipping_rates'), schema: shippingRatesEnvelopeSchema },
        options,
      )
    },
    charge(token: string, body: UpstreamCheckoutChargeBody, options?: CallOptions): Promise<UpstreamCheckoutCharge> {
      return transport.send(
        { method: 'POST', path: path(token, '/charge'), body, schema: checkoutChargeEnvelopeSchema },
        options,
      )
    },
  }
}

export type CheckoutsResource = ReturnType<typeof checkoutsResource>
