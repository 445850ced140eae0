import { addDays } from './dates.ts'
import type { IncentiveType, StoreDiscount } from './retention-types.ts'
import type { SimState } from './state.ts'

/**
 * The store's retention setup, seeded after the catalog and customers: Discounts API records (the checkout codes plus
 * one per rule a code can break) and a retention strategy per cancellation reason. Everything here derives from the
 * clock and the currency only, so a seed is reproducible.
 */
interface DiscountSeed {
  code: string
  value: string | ((state: SimState) => string)
  value_type: StoreDiscount['value_type']
  status?: StoreDiscount['status']
  /** Days from today; negative = in the past. */
  startsInDays?: number
  endsInDays?: number
  appliesTo?: Partial<StoreDiscount['applies_to']>
  /** Minor units of the store currency at 2 decimals (scaled for zero-decimal currencies). */
  minimumSubtotalCents?: number
  usage?: Partial<StoreDiscount['usage_limits']>
  apiCanApply?: boolean
}

/** Codes by the rule they exercise; the ones the checkout also knows come first with the checkout's values. */
export const DISCOUNT_SEEDS: readonly DiscountSeed[] = [
  { code: 'WELCOME10', value: checkoutValue('WELCOME10', '10'), value_type: 'percentage' },
  { code: 'FIVEOFF', value: checkoutValue('FIVEOFF', '5.00'), value_type: 'fixed_amount' },
  {
    code: 'STAYWITHUS15',
    value: '15',
    value_type: 'percentage',
    appliesTo: { purchase_item_type: 'SUBSCRIPTION' },
    usage: { max_subsequent_redemptions: 1 },
  },
  { code: 'SUMMER5', value: '5', value_type: 'percentage', startsInDays: -60, endsInDays: -30 },
  { code: 'NEXTMONTH10', value: '10', value_type: 'percentage', startsInDays: 30 },
  { code: 'PAUSED20', value: '20', value_type: 'percentage', status: 'disabled' },
  {
    code: 'DRIPPER25',
    value: '25',
    value_type: 'percentage',
    appliesTo: { resource: 'shopify_product', ids: [7_100_000_004] },
  },
  { code: 'BIGBOX10', value: '10', value_type: 'percentage', minimumSubtotalCents: 20_000 },
  { code: 'FIRSTBOX30', value: '30', value_type: 'percentage', usage: { first_time_customer_restriction: true } },
  { code: 'ONCEONLY10', value: '10', value_type: 'percentage', usage: { one_application_per_customer: true } },
  { code: 'FREESHIP', value: '100', value_type: 'shipping' },
  { code: 'STAFFONLY50', value: '50', value_type: 'percentage', apiCanApply: false },
]

const STRATEGIES: readonly {
  reason: string
  incentive: IncentiveType | null
  text: string | null
  code?: string
}[] = [
  {
    reason: 'It is too expensive',
    incentive: 'discount',
    text: 'Stay with us and take 15% off your next two deliveries.',
    code: 'STAYWITHUS15',
  },
  { reason: 'I have too much product', incentive: 'skip_charge', text: 'Skip your next delivery instead.' },
  { reason: 'I am going away for a while', incentive: 'delay_subscription', text: 'Pause your deliveries instead.' },
  { reason: 'I want a different product', incentive: 'swap_product', text: 'Swap to another product instead.' },
  { reason: 'Other reason', incentive: null, text: null },
]

function checkoutValue(code: string, fallback: string): (state: SimState) => string {
  return (state) => state.discounts.get(code)?.value ?? fallback
}

function scaledCents(state: SimState, cents: number): number {
  return state.decimals === 2 ? cents : Math.round((cents * 1.5) / 10) * 10
}

export function seedRetention(state: SimState): void {
  const now = state.timestamp()
  const today = state.today()
  const at = (days: number | undefined) => (days === undefined ? null : `${addDays(today, days)}T00:00:00+00:00`)
  for (const seed of DISCOUNT_SEEDS) {
    const discount: StoreDiscount = {
      id: state.nextId('discount', 440_000_001),
      applies_to: { ids: [], purchase_item_type: 'ALL', resource: null, ...seed.appliesTo },
      channel_settings: {
        api: { can_apply: seed.apiCanApply ?? true },
        checkout_page: { can_apply: true },
        customer_portal: { can_apply: true },
        merchant_portal: { can_apply: true },
      },
      code: seed.code,
      created_at: now,
      ends_at: at(seed.endsInDays),
      external_discount_id: { ecommerce: null },
      external_discount_source: null,
      prerequisite_subtotal_min:
        seed.minimumSubtotalCents === undefined ? null : state.money(scaledCents(state, seed.minimumSubtotalCents)),
      starts_at: at(seed.startsInDays),
      status: seed.status ?? 'enabled',
      updated_at: now,
      usage_limits: {
        automatic_redemptions_per_customer: null,
        first_time_customer_restriction: false,
        max_subsequent_redemptions: null,
        one_application_per_customer: false,
        ...seed.usage,
      },
      value: typeof seed.value === 'function' ? seed.value(state) : seed.value,
      value_type: seed.value_type,
    }
    state.storeDiscounts.set(discount.id, discount)
  }
  for (const seed of STRATEGIES) {
    const id = state.nextId('retention_strategy', 450_000_001)
    state.retentionStrategies.set(id, {
      id,
      cancellation_flow_type: 'subscription',
      created_at: now,
      discount_code: seed.code ?? null,
      incentive_type: seed.incentive,
      prevention_text: seed.text,
      reason: seed.reason,
      updated_at: now,
    })
  }
}
