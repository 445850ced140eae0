import { describe, expect, it } from 'vitest'
import { toCatalogProduct, toViewPlan, type ViewPlan } from '../../src/catalog/view.ts'
import { planSchema } from '../../src/recharge/schemas/plans.ts'
import { productSchema } from '../../src/recharge/schemas/products.ts'

const product = productSchema.parse({
  external_product_id: '123',
  title: 'Coffee',
  description: 'Fresh beans',
  images: [
    { original: 'https://cdn.example/2.jpg', sort_order: 2 },
    { original: 'https://cdn.example/1.jpg', sort_order: 1 },
  ],
  variants: [
    {
      external_variant_id: 37382314983615,
      title: 'Small',
      option_values: [{ label: 'Small' }],
      prices: { unit_price: 39.95, compare_at_price: '40.00' },
    },
    {
      external_variant_id: '2',
      title: 'Large',
      option_values: [{ label: 'Large' }],
      prices: { unit_price: '59.9', compare_at_price: null },
    },
  ],
  updated_at: '2021-11-10T10:00:00',
})

const plan = (fields: Record<string, unknown>) =>
  toViewPlan(
    planSchema.parse({
      id: 59,
      title: 'Delivery every month',
      type: 'subscription',
      external_product_id: { ecommerce: '123' },
      discount_amount: '20',
      discount_type: 'percentage',
      sort_order: 1,
      subscription_preferences: {
        interval_unit: 'months',
        order_interval_frequency: '1',
        charge_interval_frequency: 1,
      },
      ...fields,
    }),
  )

describe('CDN product view', () => {
  it('maps a Recharge product and plans into the CDN shape with exact per-plan prices', () => {
    const view = toCatalogProduct(product, [plan({})!], 'USD')
    expect(view).toMatchObject({
      external_product_id: '123',
      title: 'Coffee',
      image: 'https://cdn.example/1.jpg',
      plans: [
        {
          id: 59,
          type: 'subscription',
          discount_amount: '20',
          discount_type: 'percentage',
          interval_unit: 'month',
          order_interval_frequency: 1,
          charge_interval_frequency: 1,
        },
      ],
      updated_at: '2021-11-10T10:00:00.000Z',
    })
    expect(view.variants[0]).toEqual({
      external_variant_id: '37382314983615',
      title: 'Small',
      option_values: ['Small'],
      prices: [
        {
          currency: 'USD',
          unit_price: '39.95',
          compare_at_price: '40.00',
          plans: [{ id: 59, discounted_price: '31.96', discount_value: '7.99' }],
        },
      ],
    })
    expect(view.variants[1]?.prices[0]?.unit_price).toBe('59.90')
  })

  it('orders plans by sort_order and offers variant-restricted plans only to their variants', () => {
    const plans = [
      plan({ id: 3, sort_order: 2 })!,
      plan({ id: 4, sort_order: 0, has_variant_restrictions: true, external_variant_ids: ['2'] })!,
    ]
    const view = toCatalogProduct(product, plans, 'USD')
    expect(view.plans.map((p) => p.id)).toEqual([4, 3])
    expect(view.variants[0]?.prices[0]?.plans.map((p) => p.id)).toEqual([3])
    expect(view.variants[1]?.prices[0]?.plans.map((p) => p.id)).toEqual([4, 3])
  })

  it('hides deleted plans and plans hidden from the API channel', () => {
    expect(plan({ deleted_at: '2022-01-01T00:00:00' })).toBeNull()
    expect(plan({ channel_settings: { api: { display: false } } })).toBeNull()
    expect(plan({ channel_settings: { api: { display: true } } })).not.toBeNull()
  })

  it('is deterministic (same input, same bytes) so ETags agree across replicas', () => {
    const plans: ViewPlan[] = [plan({ id: 8, sort_order: 1 })!, plan({ id: 7, sort_order: 1 })!]
    const a = JSON.stringify(toCatalogProduct(product, plans, 'JPY'))
    const b = JSON.stringify(toCatalogProduct(product, [...plans].reverse(), 'JPY'))
    expect(a).toBe(b)
    expect(JSON.parse(a).variants[0].prices[0].unit_price).toBe('40')
  })
})
