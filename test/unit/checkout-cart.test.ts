import { describe, expect, it, vi } from 'vitest'
import type { CatalogPlan, CatalogProduct } from '../../src/catalog/types.ts'
import { resolveCart, toUpstreamLineItem } from '../../src/checkout/cart.ts'
import { type CartLine, cartLineSchema, createCheckoutBodySchema } from '../../src/checkout/schemas.ts'
import { AppError } from '../../src/errors.ts'

function plan(overrides: Partial<CatalogPlan> & Pick<CatalogPlan, 'id' | 'type'>): CatalogPlan {
  return {
    title: `Plan ${overrides.id}`,
    sort_order: 0,
    discount_amount: null,
    discount_type: null,
    interval_unit: null,
    charge_interval_frequency: null,
    order_interval_frequency: null,
    external_plan_id: null,
    external_plan_name: null,
    ...overrides,
  }
}

/** Coffee: monthly (20 % off), prepaid 3×monthly (25 % off) for every variant; a weekly plan only for the 1 kg bag. */
const coffee: CatalogProduct = {
  external_product_id: '1001',
  title: 'House Coffee',
  description: null,
  image: null,
  plans: [
    plan({
      id: 11,
      type: 'subscription',
      interval_unit: 'month',
      charge_interval_frequency: 1,
      order_interval_frequency: 1,
    }),
    plan({
      id: 12,
      type: 'prepaid',
      interval_unit: 'month',
      charge_interval_frequency: 3,
      order_interval_frequency: 1,
    }),
    plan({
      id: 13,
      type: 'subscription',
      interval_unit: 'week',
      charge_interval_frequency: 2,
      order_interval_frequency: 2,
    }),
    plan({ id: 14, type: 'onetime' }),
  ],
  variants: [
    {
      external_variant_id: '2001',
      title: '250 g',
      option_values: ['250 g'],
      prices: [
        {
          currency: 'USD',
          unit_price: '39.95',
          compare_at_price: null,
          plans: [
            { id: 11, discounted_price: '31.96', discount_value: '7.99' },
            { id: 12, discounted_price: '29.96', discount_value: '9.99' },
            { id: 14, discounted_price: '39.95', discount_value: '0.00' },
          ],
        },
      ],
    },
    {
      external_variant_id: '2002',
      title: '1 kg',
      option_values: ['1 kg'],
      prices: [
        {
          currency: 'USD',
          unit_price: '99.00',
          compare_at_price: null,
          plans: [
            { id: 11, discounted_price: '79.20', discount_value: '19.80' },
            { id: 13, discounted_price: '89.10', discount_value: '9.90' },
          ],
        },
      ],
    },
  ],
  updated_at: '2026-11-01T00:00:00.000Z',
}

/** A subscription-only product (no one-time plan). */
const club: CatalogProduct = {
  external_product_id: '1002',
  title: 'Coffee Club',
  description: null,
  image: null,
  plans: [
    plan({
      id: 21,
      type: 'subscription',
      interval_unit: 'month',
      charge_interval_frequency: 1,
      order_interval_frequency: 1,
    }),
  ],
  variants: [
    {
      external_variant_id: '2101',
      title: 'Default',
      option_values: [],
      prices: [
        {
          currency: 'USD',
          unit_price: '20.00',
          compare_at_price: null,
          plans: [{ id: 21, discounted_price: '18.00', discount_value: '2.00' }],
        },
      ],
    },
  ],
  updated_at: '2026-11-01T00:00:00.000Z',
}

/** A plain product: no plans at all, sold once at its list price. */
const mug: CatalogProduct = {
  external_product_id: '1003',
  title: 'Mug',
  description: null,
  image: null,
  plans: [],
  variants: [
    {
      external_variant_id: '2201',
      title: 'White',
      option_values: ['White'],
      prices: [{ currency: 'USD', unit_price: '12.50', compare_at_price: null, plans: [] }],
    },
  ],
  updated_at: '2026-11-01T00:00:00.000Z',
}

const catalog = new Map([coffee, club, mug].map((product) => [product.external_product_id, product]))
const lookup = vi.fn(async (id: string) => catalog.get(id) ?? null)
const noCurrency = async () => null

function line(fields: Record<string, unknown>): CartLine {
  return cartLineSchema.parse(fields)
}

async function rejection(lines: CartLine[]): Promise<AppError> {
  const error = await resolveCart(lines, lookup, noCurrency).then(
    () => null,
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(AppError)
  return error as AppError
}

describe('cart resolution from the catalog', () => {
  it('prices a subscription line at the plan price with the plan interval, and a one-time line at list price', async () => {
    const cart = await resolveCart(
      [
        line({ external_product_id: '1001', external_variant_id: '2001', quantity: 2, plan_id: 11 }),
        line({ external_product_id: '1003', external_variant_id: '2201', quantity: 1 }),
      ],
      lookup,
      noCurrency,
    )
    expect(cart.currency).toBe('USD')
    expect(cart.lines.map(toUpstreamLineItem)).toEqual([
      {
        external_product_id: { ecommerce: '1001' },
        external_variant_id: { ecommerce: '2001' },
        quantity: 2,
        purchase_item_type: 'subscription',
        unit_price: '31.96',
        title: 'House Coffee',
        variant_title: '250 g',
        subscription_preferences: { charge_interval_frequency: 1, order_interval_frequency: 1, interval_unit: 'month' },
      },
      {
        external_product_id: { ecommerce: '1003' },
        external_variant_id: { ecommerce: '2201' },
        quantity: 1,
        purchase_item_type: 'onetime',
        unit_price: '12.50',
        title: 'Mug',
        variant_title: 'White',
      },
    ])
  })

  it('keeps a prepaid plan’s charge and delivery frequencies apart', async () => {
    const cart = await resolveCart(
      [line({ external_product_id: '1001', external_variant_id: '2001', quantity: 1, plan_id: 12 })],
      lookup,
      noCurrency,
    )
    expect(cart.lines[0]).toMatchObject({
      unitPrice: '29.96',
      interval: { unit: 'month', chargeEvery: 3, deliverEvery: 1 },
    })
  })

  it('sells one-time through the product’s one-time plan when it has one', async () => {
    const cart = await resolveCart(
      [line({ external_product_id: '1001', external_variant_id: '2001', quantity: 1, onetime: true })],
      lookup,
      noCurrency,
    )
    expect(cart.lines[0]).toMatchObject({ purchaseType: 'onetime', planId: 14, unitPrice: '39.95', interval: null })
  })

  it('fetches each distinct product once', async () => {
    lookup.mockClear()
    await resolveCart(
      [
        line({ external_product_id: '1001', external_variant_id: '2001', quantity: 1, plan_id: 11 }),
        line({ external_product_id: '1001', external_variant_id: '2002', quantity: 1, plan_id: 11 }),
      ],
      lookup,
      noCurrency,
    )
    expect(lookup).toHaveBeenCalledTimes(1)
  })

  it('rejects an unknown product, variant or plan with a 422 naming each offending line', async () => {
    const error = await rejection([
      line({ external_product_id: '1001', external_variant_id: '2001', quantity: 1, plan_id: 11 }),
      line({ external_product_id: '1001', external_variant_id: '2001', quantity: 1, plan_id: 21 }),
      line({ external_product_id: '9999', external_variant_id: '1', quantity: 1 }),
      line({ external_product_id: '1003', external_variant_id: '9', quantity: 1 }),
    ])
    expect(error.status).toBe(422)
    expect(error.code).toBe('UNPROCESSABLE')
    expect(error.errors).toEqual([
      { field: 'body.lines.1.plan_id', message: 'this plan is not offered for this product' },
      { field: 'body.lines.2.external_product_id', message: 'no such product in the catalog' },
      { field: 'body.lines.3.external_variant_id', message: 'no such variant of this product' },
    ])
    expect(error.extensions).toEqual({ lines: [1, 2, 3] })
  })

  it('rejects a plan the product offers but not for this variant', async () => {
    const error = await rejection([
      line({ external_product_id: '1001', external_variant_id: '2001', quantity: 1, plan_id: 13 }),
    ])
    expect(error.errors).toEqual([
      { field: 'body.lines.0.plan_id', message: 'this plan is not offered for this variant' },
    ])
  })

  it('rejects a one-time purchase of a subscription-only product', async () => {
    const error = await rejection([line({ external_product_id: '1002', external_variant_id: '2101', quantity: 1 })])
    expect(error.errors?.[0]?.field).toBe('body.lines.0.plan_id')
  })

  it('rejects a one-time plan named as plan_id (a subscription was asked for)', async () => {
    const error = await rejection([
      line({ external_product_id: '1001', external_variant_id: '2001', quantity: 1, plan_id: 14 }),
    ])
    expect(error.errors?.[0]?.field).toBe('body.lines.0.plan_id')
  })

  it('picks the store currency when a variant is priced in several', async () => {
    const multi: CatalogProduct = {
      ...mug,
      external_product_id: '1004',
      variants: [
        {
          ...mug.variants[0]!,
          prices: [
            { currency: 'USD', unit_price: '12.50', compare_at_price: null, plans: [] },
            { currency: 'EUR', unit_price: '11.90', compare_at_price: null, plans: [] },
          ],
        },
      ],
    }
    const cart = await resolveCart(
      [line({ external_product_id: '1004', external_variant_id: '2201', quantity: 1 })],
      async () => multi,
      async () => 'EUR',
    )
    expect(cart).toMatchObject({ currency: 'EUR', lines: [{ unitPrice: '11.90' }] })
  })
})

describe('checkout request schema', () => {
  const base = { lines: [{ external_product_id: '1001', external_variant_id: '2001', quantity: 1, plan_id: 11 }] }

  it('accepts a cart of lines with optional email, addresses, discount code and UTM data', () => {
    expect(
      createCheckoutBodySchema.safeParse({
        ...base,
        email: 'ada@example.com',
        discount_code: 'WELCOME10',
        utm: { utm_source: 'newsletter' },
        shipping_address: {
          first_name: 'Ada',
          last_name: 'Lovelace',
          address1: '1 Main St',
          city: 'Springfield',
          zip: '12345',
          country_code: 'us',
        },
      }).success,
    ).toBe(true)
  })

  it.each([
    ['a price', { price: '0.01' }],
    ['a unit price', { unit_price: '0.01' }],
    ['an interval', { order_interval_frequency: 52 }],
    ['an interval unit', { interval_unit: 'year' }],
    ['a discounted price', { discounted_price: '1.00' }],
  ])('refuses a line that carries %s', (_what, extra) => {
    const result = createCheckoutBodySchema.safeParse({ lines: [{ ...base.lines[0], ...extra }] })
    expect(result.success).toBe(false)
  })

  it('refuses top-level fields it does not know (a total, a currency)', () => {
    expect(createCheckoutBodySchema.safeParse({ ...base, total_price: '1.00' }).success).toBe(false)
    expect(createCheckoutBodySchema.safeParse({ ...base, currency: 'XXX' }).success).toBe(false)
  })

  it('refuses a line that is both a subscription and one-time, a zero quantity, and an empty cart', () => {
    expect(createCheckoutBodySchema.safeParse({ lines: [{ ...base.lines[0], onetime: true }] }).success).toBe(false)
    expect(createCheckoutBodySchema.safeParse({ lines: [{ ...base.lines[0], quantity: 0 }] }).success).toBe(false)
    expect(createCheckoutBodySchema.safeParse({ lines: [] }).success).toBe(false)
  })
})
