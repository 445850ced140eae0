import { describe, expect, it } from 'vitest'
import { presentCheckout, presentShippingRates } from '../../src/checkout/present.ts'
import { checkoutResponseSchema } from '../../src/checkout/schemas.ts'
import {
  checkoutChargeEnvelopeSchema,
  checkoutEnvelopeSchema,
  shippingRatesEnvelopeSchema,
} from '../../src/recharge/schemas/checkouts.ts'

/** A 2021-11 checkout as the API reference describes it (nested external ids and subscription preferences). */
const checkout2021 = {
  checkout: {
    token: '6b3d1f2a9c8e4f7a',
    currency: 'USD',
    email: 'ada@example.com',
    line_items: [
      {
        external_product_id: { ecommerce: '1001' },
        external_variant_id: { ecommerce: 2001 },
        purchase_item_type: 'subscription',
        quantity: 2,
        unit_price: '31.96',
        title: 'House Coffee',
        variant_title: '250 g',
        subscription_preferences: {
          charge_interval_frequency: '1',
          order_interval_frequency: 1,
          interval_unit: 'Months',
        },
      },
      {
        external_product_id: { ecommerce: '1003' },
        external_variant_id: { ecommerce: '2201' },
        purchase_item_type: 'onetime',
        quantity: 1,
        unit_price: 12.5,
        title: 'Mug',
        variant_title: 'White',
      },
    ],
    subtotal_price: '76.42',
    total_tax: 0,
    total_price: '81.42',
    applied_shipping_rate: { code: 'standard', handle: 'standard-5.00', price: '5.00', title: 'Standard' },
    applied_discounts: [{ discount_code: 'WELCOME10', amount: '0.00', applicable: 1 }],
    requires_shipping: true,
    shipping_address: {
      first_name: 'Ada',
      last_name: 'Lovelace',
      address1: '1 Main St',
      city: 'Springfield',
      zip: '12345',
      country_code: 'US',
    },
    completed_at: null,
    created_at: '2026-11-21T10:00:00',
    payment_processor_customer_id: 'cus_secret',
    payment_token: 'tok_never_echo',
  },
}

/** The 2021-01 shape: flat interval fields, `price`, bare ids, a shipping line. */
const checkout2021_01 = {
  checkout: {
    token: 'abc123',
    line_items: [
      {
        product_id: 1,
        external_product_id: 1001,
        external_variant_id: '2001',
        quantity: 1,
        price: '31.96',
        product_title: 'House Coffee',
        charge_interval_frequency: 3,
        order_interval_frequency: 1,
        order_interval_unit: 'month',
      },
    ],
    subtotal_price: 31.96,
    shipping_lines: [
      { code: 'std', price: '2.50', title: 'Std' },
      { code: 'ins', price: '0.75', title: 'Insurance' },
    ],
    discount_code: 'SAVE',
    charge_id: 99,
    completed_at: '2026-11-21T10:05:00+00:00',
  },
}

describe('upstream checkout parsing', () => {
  it('reads the 2021-11 shape into one model and drops everything else', () => {
    const parsed = checkoutEnvelopeSchema.parse(checkout2021)
    expect(parsed.lineItems).toEqual([
      {
        externalProductId: '1001',
        externalVariantId: '2001',
        purchaseType: 'subscription',
        quantity: 2,
        unitPrice: '31.96',
        linePrice: null,
        title: 'House Coffee',
        variantTitle: '250 g',
        sku: null,
        interval: { unit: 'month', chargeEvery: 1, deliverEvery: 1 },
      },
      expect.objectContaining({ purchaseType: 'onetime', unitPrice: '12.5', interval: null }),
    ])
    expect(parsed).toMatchObject({ totalTax: '0', shippingPrice: '5.00', discountCodes: ['WELCOME10'] })
    expect(JSON.stringify(parsed)).not.toMatch(/tok_never_echo|cus_secret/)
  })

  it('reads the older flat shape the same way', () => {
    const parsed = checkoutEnvelopeSchema.parse(checkout2021_01)
    expect(parsed.lineItems[0]).toMatchObject({
      externalProductId: '1001',
      purchaseType: 'subscription',
      unitPrice: '31.96',
      title: 'House Coffee',
      interval: { unit: 'month', chargeEvery: 3, deliverEvery: 1 },
    })
    expect(parsed).toMatchObject({ shippingPrice: '3.25', discountCodes: ['SAVE'], chargeId: '99' })
    expect(parsed.completedAt).toBe('2026-11-21T10:05:00.000Z')
  })

  it('presents a checkout the response schema accepts, with Recharge’s totals', () => {
    const view = presentCheckout(
      checkoutEnvelopeSchema.parse(checkout2021),
      'https://checkout.rechargeapps.com/r/checkout/6b3d1f2a9c8e4f7a',
    )
    expect(checkoutResponseSchema.parse(view)).toEqual(view)
    expect(view.status).toBe('open')
    expect(view.totals).toEqual({
      currency: 'USD',
      subtotal: '76.42',
      discounts: '0.00',
      shipping: '5.00',
      tax: '0',
      total: '81.42',
    })
    expect(view.lines[0]?.interval).toEqual({ unit: 'month', charge_every: 1, deliver_every: 1 })
  })

  it('reads a charge answer whether it is a checkout or a charge summary, never keeping the payment token', () => {
    const summary = checkoutChargeEnvelopeSchema.parse({
      checkout_charge: {
        charge_id: '555',
        free: false,
        payment_token: 'tok_x',
        status: 'success',
        payment_processor: 'stripe',
      },
    })
    expect(summary).toMatchObject({ chargeId: '555', free: false, status: 'success' })
    expect(JSON.stringify(summary)).not.toContain('tok_x')
    const processed = checkoutChargeEnvelopeSchema.parse({
      checkout: { ...checkout2021.checkout, charge_id: 7, customer_id: 42 },
    })
    expect(processed).toMatchObject({ chargeId: '7', customerId: '42' })
  })

  it('keeps only selectable shipping rates', () => {
    const rates = shippingRatesEnvelopeSchema.parse({
      shipping_rates: [
        { code: 'std', handle: 'standard-5.00', price: 5, title: 'Standard', checkout: { total_price: '1' } },
        { name: 'Nameless', price: '1.00' },
      ],
    })
    expect(presentShippingRates(rates)).toEqual({
      shipping_rates: [{ handle: 'standard-5.00', title: 'Standard', price: '5', description: null }],
    })
  })
})
