import { describe, expect, it } from 'vitest'
import { addressSchema } from '../../src/recharge/schemas/addresses.ts'
import { subscriptionSchema } from '../../src/recharge/schemas/subscriptions.ts'
import {
  showsAddressUpdate,
  showsSkipped,
  showsSubscriptionUpdate,
  showsUnskipped,
} from '../../src/shopper/write-confirmation.ts'

/**
 * After a write's answer is lost, the record read back decides whether it was applied. Values come back in the form
 * the lenient schemas give them (an external id object as its string, "Months" as "month", a price as a decimal
 * string), so equal must survive that; anything else must compare unequal, since "applied" is the only conclusion.
 */
const subscription = subscriptionSchema.parse({
  id: 1,
  address_id: 2,
  status: 'ACTIVE',
  external_product_id: { ecommerce: '7100000001' },
  external_variant_id: { ecommerce: '7200000011' },
  price: 16.2,
  quantity: '3',
  order_interval_frequency: 2,
  charge_interval_frequency: 2,
  order_interval_unit: 'Weeks',
  next_charge_scheduled_at: '2030-01-15T00:00:00',
})

describe('reading a subscription change back', () => {
  it('recognises the change in the normalised record', () => {
    expect(
      showsSubscriptionUpdate(
        subscription,
        {
          quantity: 3,
          price: '16.20',
          external_variant_id: { ecommerce: '7200000011' },
          order_interval_unit: 'week',
          order_interval_frequency: 2,
          commit: true,
        },
        '2030-01-15',
      ),
    ).toBe(true)
  })

  it('does not when any field or the date differs', () => {
    expect(showsSubscriptionUpdate(subscription, { quantity: 4 })).toBe(false)
    expect(showsSubscriptionUpdate(subscription, { external_variant_id: { ecommerce: '7200000012' } })).toBe(false)
    expect(showsSubscriptionUpdate(subscription, { order_interval_unit: 'month' })).toBe(false)
    expect(showsSubscriptionUpdate(subscription, { quantity: 3 }, '2030-01-16')).toBe(false)
    expect(showsSubscriptionUpdate(subscription, { properties: [{ name: 'gift', value: 'yes' }] })).toBe(false)
  })
})

describe('reading a skip or an unskip back', () => {
  // `subscription` is next charged on 2030-01-15 (a timestamp on the wire, a date once parsed).
  it('sees a skip once the next charge is past the skipped delivery, and only then', () => {
    expect(showsSkipped(subscription, '2030-01-01')).toBe(true)
    expect(showsSkipped(subscription, '2030-01-15')).toBe(false)
    expect(showsSkipped(subscription, '2030-02-01')).toBe(false)
    expect(showsSkipped(subscription, null)).toBe(false)
    expect(showsSkipped({ ...subscription, next_charge_scheduled_at: null }, '2030-01-01')).toBe(false)
  })

  it('sees an unskip when the next charge is back on the restored delivery, and only then', () => {
    expect(showsUnskipped(subscription, '2030-01-15')).toBe(true)
    expect(showsUnskipped(subscription, '2030-01-01')).toBe(false)
    expect(showsUnskipped(subscription, null)).toBe(false)
  })
})

describe('reading an address change back', () => {
  const address = addressSchema.parse({
    id: 9,
    address1: '1 Navy Way',
    address2: '',
    city: 'Arlington',
    zip: '22202',
    country_code: 'US',
  })

  it('treats an empty text and null alike, and compares the rest exactly', () => {
    expect(showsAddressUpdate(address, { address1: '1 Navy Way', address2: null, zip: '22202' })).toBe(true)
    expect(showsAddressUpdate(address, { city: 'Alexandria' })).toBe(false)
  })
})
