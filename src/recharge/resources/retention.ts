import { type PageRequest, pageQuery, pageSchema } from '../pagination.ts'
import {
  addressDiscountsEnvelope,
  discountedChargeEnvelope,
  retentionStrategySchema,
  storeDiscountSchema,
} from '../schemas/retention.ts'
import type { CallOptions, RechargeTransport } from '../types.ts'

const strategyPage = pageSchema('retention_strategies', retentionStrategySchema, { unusableRows: 'skip' })
const discountPage = pageSchema('discounts', storeDiscountSchema, { unusableRows: 'skip' })

/**
 * The Recharge calls of the retention actions: retention strategies and discount codes (reads), a code on an address
 * or on one charge, and processing a queued charge now. Writes under an address pass its id (`options.addressId`),
 * so the queue serialises them as Recharge does.
 */
export function retentionResource(transport: RechargeTransport) {
  const charge = (id: string, action: string) => `/charges/${encodeURIComponent(id)}${action}`
  const address = (id: string) => `/addresses/${encodeURIComponent(id)}`
  return {
    strategies(page?: PageRequest, options?: CallOptions) {
      return transport.send(
        { method: 'GET', path: '/retention_strategies', query: pageQuery({}, page), schema: strategyPage },
        options,
      )
    },
    /** The store's discount with this code (Recharge matches codes case-insensitively), or null. */
    async discountByCode(code: string, options?: CallOptions) {
      const page = await transport.send(
        {
          method: 'GET',
          path: '/discounts',
          query: pageQuery({ discount_code: code }, { limit: 1 }),
          schema: discountPage,
        },
        options,
      )
      return page.items[0] ?? null
    },
    addressDiscounts(addressId: string, options?: CallOptions) {
      return transport.send({ method: 'GET', path: address(addressId), schema: addressDiscountsEnvelope }, options)
    },
    /** An address holds one discount: `code` sets (or replaces) it, null removes it. */
    setAddressDiscount(addressId: string, code: string | null, options?: CallOptions) {
      return transport.send(
        {
          method: 'PUT',
          path: address(addressId),
          body: { discounts: code === null ? [] : [{ code }] },
          schema: addressDiscountsEnvelope,
        },
        { ...options, addressId },
      )
    },
    charge(chargeId: string, options?: CallOptions) {
      return transport.send(
        { method: 'GET', path: `/charges/${encodeURIComponent(chargeId)}`, schema: discountedChargeEnvelope },
        options,
      )
    },
    applyChargeDiscount(chargeId: string, code: string, options?: CallOptions) {
      return transport.send(
        {
          method: 'POST',
          path: charge(chargeId, '/apply_discount'),
          body: { discount_code: code },
          schema: discountedChargeEnvelope,
        },
        options,
      )
    },
    removeChargeDiscount(chargeId: string, options?: CallOptions) {
      return transport.send(
        { method: 'POST', path: charge(chargeId, '/remove_discount'), body: {}, schema: discountedChargeEnvelope },
        options,
      )
    },
    /** Bill a queued charge today ("order now"); not idempotent upstream: never re-sent by us. */
    processCharge(chargeId: string, options?: CallOptions) {
      return transport.send(
        { method: 'POST', path: charge(chargeId, '/process'), body: {}, schema: discountedChargeEnvelope },
        options,
      )
    },
  }
}
