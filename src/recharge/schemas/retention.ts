import { z } from 'zod'
import { chargeSchema } from './charges.ts'
import { discountRef, text } from './common.ts'
import { blankable, id, listOf, nullish, timestamp } from './lenient.ts'

/**
 * The fields of the retention endpoints the bridge reads: retention strategies (the store's offers per cancellation
 * reason), Discounts API codes (to tell a shopper why a code was refused), and the discounts an address or a charge
 * carries. Any other key is dropped unread.
 */
export const retentionStrategySchema = z.object({
  id,
  reason: nullish(text),
  prevention_text: nullish(text),
  /** delay_subscription, discount, skip_charge, swap_product, or null (no incentive). */
  incentive_type: nullish(z.string()),
  discount_code: nullish(text),
})
export type RetentionStrategy = z.output<typeof retentionStrategySchema>

export const storeDiscountSchema = z.object({
  id,
  code: nullish(text),
  /** enabled, disabled, fully_disabled. */
  status: nullish(z.string()),
  starts_at: blankable(timestamp),
  ends_at: blankable(timestamp),
})
export type StoreDiscount = z.output<typeof storeDiscountSchema>

export const addressDiscountsSchema = z.object({ id, discounts: listOf(discountRef) })
export const addressDiscountsEnvelope = z.object({ address: addressDiscountsSchema }).transform((body) => body.address)
export type AddressDiscounts = z.output<typeof addressDiscountsSchema>

/** A charge with the discount lines Recharge applied to it (the shopper view shows them). */
export const discountedChargeSchema = chargeSchema.extend({ discounts: listOf(discountRef) })
export type DiscountedCharge = z.output<typeof discountedChargeSchema>
export const discountedChargeEnvelope = z.object({ charge: discountedChargeSchema }).transform((body) => body.charge)
