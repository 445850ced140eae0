import type { ExternalId } from './types.ts'

/** Records of the retention endpoints: retention strategies, Discounts API codes, and the pauses the simulator saw. */
export type IncentiveType = 'delay_subscription' | 'discount' | 'skip_charge' | 'swap_product'

/** A cancellation reason and the offer Recharge shows for it (2021-11 `retention_strategies`). */
export interface RetentionStrategy {
  id: number
  cancellation_flow_type: 'subscription' | 'membership'
  created_at: string
  discount_code: string | null
  incentive_type: IncentiveType | null
  prevention_text: string | null
  reason: string
  updated_at: string
}

export type DiscountValueType = 'percentage' | 'fixed_amount' | 'shipping'
export type DiscountStatus = 'enabled' | 'disabled' | 'fully_disabled'

/** A discount of the 2021-11 Discounts API (by id; a code is unique per store, compared case-insensitively). */
export interface StoreDiscount {
  id: number
  applies_to: {
    ids: number[]
    purchase_item_type: 'ALL' | 'ONETIME' | 'SUBSCRIPTION'
    resource: 'shopify_product' | 'shopify_collection_id' | null
  }
  channel_settings: Record<'api' | 'checkout_page' | 'customer_portal' | 'merchant_portal', { can_apply: boolean }>
  code: string
  created_at: string
  ends_at: string | null
  external_discount_id: ExternalId
  external_discount_source: string | null
  prerequisite_subtotal_min: string | null
  starts_at: string | null
  status: DiscountStatus
  updated_at: string
  usage_limits: {
    automatic_redemptions_per_customer: number | null
    first_time_customer_restriction: boolean
    max_subsequent_redemptions: number | null
    one_application_per_customer: boolean
  }
  value: string
  value_type: DiscountValueType
}

/** A discount as a charge or order carries it. */
export interface AppliedDiscount {
  id: number
  code: string
  value: string
  value_type: DiscountValueType
}

/**
 * Simulator bookkeeping, not a Recharge record: a pause asked with `set_next_charge_date?pause=true`. Recharge 2021-11
 * keeps the subscription `active` with a later date; this only lets `/__sim/state` show what was paused until when.
 */
export interface SubscriptionPause {
  subscription_id: number
  paused_at: string
  resumes_on: string
}
