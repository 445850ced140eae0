import type { IntervalUnit } from './dates.ts'
import type { SimState } from './state.ts'
import type { Plan } from './types.ts'

/** The data set's content: the coffee roaster's products and plans, its customers and discount codes (seed.ts). */

export interface ProductSeed {
  id: string
  title: string
  description: string
  vendor: string
  option: string
  variants: { id: string; title: string; cents: number; compareAt: number | null; grams: number; sku: string }[]
  plans: PlanSeed[]
}

export interface PlanSeed {
  title: string
  type: Plan['type']
  discount: number | null
  chargeEvery?: number
  orderEvery?: number
  unit?: IntervalUnit
}

export const PRODUCTS: ProductSeed[] = [
  {
    id: '7100000001',
    title: 'Morning Ritual Coffee',
    description: 'A bright, chocolatey espresso-friendly blend roasted every Monday.',
    vendor: 'Simulator Coffee Co.',
    option: 'Size',
    variants: [
      { id: '7200000011', title: '250 g', cents: 1800, compareAt: 2000, grams: 250, sku: 'MRC-250' },
      { id: '7200000012', title: '1 kg', cents: 5400, compareAt: 6000, grams: 1000, sku: 'MRC-1000' },
    ],
    plans: [
      { title: 'Every 2 weeks', type: 'subscription', discount: 10, chargeEvery: 2, orderEvery: 2, unit: 'week' },
      { title: 'Every 4 weeks', type: 'subscription', discount: 10, chargeEvery: 4, orderEvery: 4, unit: 'week' },
      { title: 'Every month', type: 'subscription', discount: 15, chargeEvery: 1, orderEvery: 1, unit: 'month' },
      {
        title: '3 months prepaid, delivered monthly',
        type: 'prepaid',
        discount: 20,
        chargeEvery: 3,
        orderEvery: 1,
        unit: 'month',
      },
      { title: 'One-time purchase', type: 'onetime', discount: null },
    ],
  },
  {
    id: '7100000002',
    title: 'Decaf Evening Blend',
    description: 'Swiss-water decaf with notes of caramel and almond.',
    vendor: 'Simulator Coffee Co.',
    option: 'Grind',
    variants: [
      { id: '7200000021', title: 'Whole bean', cents: 1700, compareAt: null, grams: 250, sku: 'DEB-WB' },
      { id: '7200000022', title: 'Ground', cents: 1700, compareAt: null, grams: 250, sku: 'DEB-GR' },
    ],
    plans: [
      { title: 'Every 30 days', type: 'subscription', discount: 5, chargeEvery: 30, orderEvery: 30, unit: 'day' },
      { title: 'Every 60 days', type: 'subscription', discount: 5, chargeEvery: 60, orderEvery: 60, unit: 'day' },
      { title: 'One-time purchase', type: 'onetime', discount: null },
    ],
  },
  {
    id: '7100000003',
    title: 'Cold Brew Concentrate',
    description: 'Steeped for 18 hours; mix one part concentrate with two parts water or milk.',
    vendor: 'Simulator Coffee Co.',
    option: 'Pack',
    variants: [
      { id: '7200000031', title: 'Single bottle', cents: 1200, compareAt: null, grams: 1000, sku: 'CBC-1' },
      { id: '7200000032', title: '4-pack', cents: 4400, compareAt: 4800, grams: 4000, sku: 'CBC-4' },
    ],
    plans: [
      { title: 'Every week', type: 'subscription', discount: 10, chargeEvery: 1, orderEvery: 1, unit: 'week' },
      { title: 'Every 30 days', type: 'subscription', discount: 10, chargeEvery: 30, orderEvery: 30, unit: 'day' },
      { title: 'One-time purchase', type: 'onetime', discount: null },
    ],
  },
  {
    id: '7100000004',
    title: 'Ceramic Pour-Over Dripper',
    description: 'Hand-glazed size 02 dripper. Sold as a one-time purchase.',
    vendor: 'Simulator Coffee Co.',
    option: 'Colour',
    variants: [
      { id: '7200000041', title: 'White', cents: 3200, compareAt: null, grams: 400, sku: 'CPD-WHT' },
      { id: '7200000042', title: 'Charcoal', cents: 3200, compareAt: 3600, grams: 400, sku: 'CPD-CHR' },
    ],
    plans: [{ title: 'One-time purchase', type: 'onetime', discount: null }],
  },
  {
    id: '7100000005',
    title: 'Paper Filters (100)',
    description: 'Unbleached size 02 filters.',
    vendor: 'Simulator Coffee Co.',
    option: 'Size',
    variants: [{ id: '7200000051', title: 'Size 02', cents: 600, compareAt: null, grams: 150, sku: 'PF-02' }],
    plans: [
      { title: 'Every month', type: 'subscription', discount: 10, chargeEvery: 1, orderEvery: 1, unit: 'month' },
      { title: 'Every 2 months', type: 'subscription', discount: 10, chargeEvery: 2, orderEvery: 2, unit: 'month' },
      { title: 'One-time purchase', type: 'onetime', discount: null },
    ],
  },
  {
    id: '7100000006',
    title: 'Matcha Starter Kit',
    description: 'Ceremonial-grade matcha with a bamboo whisk; refill tins every month.',
    vendor: 'Simulator Tea Works',
    option: 'Tin',
    variants: [
      { id: '7200000061', title: '30 g', cents: 2800, compareAt: null, grams: 30, sku: 'MSK-30' },
      { id: '7200000062', title: '100 g', cents: 7500, compareAt: 8400, grams: 100, sku: 'MSK-100' },
    ],
    plans: [
      { title: 'Every month', type: 'subscription', discount: 10, chargeEvery: 1, orderEvery: 1, unit: 'month' },
      {
        title: '6 months prepaid, delivered monthly',
        type: 'prepaid',
        discount: 15,
        chargeEvery: 6,
        orderEvery: 1,
        unit: 'month',
      },
      { title: 'One-time purchase', type: 'onetime', discount: null },
    ],
  },
]

export interface CustomerSeed {
  email: string
  first: string
  last: string
  externalId: string
  /** An extra, unused card on file (not the default, no address uses it). */
  spareCard?: boolean
  addresses: { address1: string; city: string; province: string; zip: string; company: string | null }[]
  subscriptions: {
    address: number
    product: string
    variant: string
    planTitle: string
    quantity: number
    nextInDays: number
    cancelled?: boolean
  }[]
}

export const CUSTOMERS: CustomerSeed[] = [
  {
    email: 'alice@example.com',
    first: 'Alice',
    last: 'Archer',
    externalId: '7001001',
    addresses: [
      { address1: '101 Market Street', city: 'San Francisco', province: 'California', zip: '94105', company: null },
      {
        address1: '500 Howard Street',
        city: 'San Francisco',
        province: 'California',
        zip: '94105',
        company: 'Archer Labs',
      },
    ],
    subscriptions: [
      {
        address: 0,
        product: '7100000001',
        variant: '7200000011',
        planTitle: 'Every 2 weeks',
        quantity: 2,
        nextInDays: 5,
      },
      {
        address: 0,
        product: '7100000005',
        variant: '7200000051',
        planTitle: 'Every month',
        quantity: 1,
        nextInDays: 5,
      },
      {
        address: 0,
        product: '7100000002',
        variant: '7200000022',
        planTitle: 'Every 30 days',
        quantity: 1,
        nextInDays: 9,
        cancelled: true,
      },
      {
        address: 1,
        product: '7100000003',
        variant: '7200000032',
        planTitle: 'Every 30 days',
        quantity: 1,
        nextInDays: 12,
      },
    ],
  },
  {
    email: 'bob@example.com',
    first: 'Bob',
    last: 'Baker',
    externalId: '7001002',
    addresses: [{ address1: '42 Elm Avenue', city: 'Portland', province: 'Oregon', zip: '97205', company: null }],
    subscriptions: [
      {
        address: 0,
        product: '7100000001',
        variant: '7200000012',
        planTitle: 'Every 4 weeks',
        quantity: 1,
        nextInDays: 3,
      },
      {
        address: 0,
        product: '7100000006',
        variant: '7200000061',
        planTitle: 'Every month',
        quantity: 1,
        nextInDays: 17,
      },
    ],
  },
  {
    email: 'carol@example.com',
    first: 'Carol',
    last: 'Chen',
    externalId: '7001003',
    addresses: [{ address1: '9 Harbor Road', city: 'Seattle', province: 'Washington', zip: '98101', company: null }],
    subscriptions: [
      {
        address: 0,
        product: '7100000002',
        variant: '7200000021',
        planTitle: 'Every 60 days',
        quantity: 2,
        nextInDays: 21,
      },
      {
        address: 0,
        product: '7100000001',
        variant: '7200000012',
        planTitle: '3 months prepaid, delivered monthly',
        quantity: 1,
        nextInDays: 44,
      },
    ],
  },
  {
    email: 'dave@example.com',
    first: 'Dave',
    last: 'Diaz',
    externalId: '7001004',
    addresses: [
      { address1: '77 Sunset Blvd', city: 'Los Angeles', province: 'California', zip: '90028', company: null },
    ],
    subscriptions: [
      {
        address: 0,
        product: '7100000003',
        variant: '7200000031',
        planTitle: 'Every week',
        quantity: 3,
        nextInDays: 2,
        cancelled: true,
      },
      {
        address: 0,
        product: '7100000005',
        variant: '7200000051',
        planTitle: 'Every 2 months',
        quantity: 2,
        nextInDays: 26,
      },
    ],
  },
  {
    email: 'erin@example.com',
    first: 'Erin',
    last: 'Evans',
    externalId: '7001005',
    spareCard: true,
    addresses: [{ address1: '3 Lake Shore Drive', city: 'Chicago', province: 'Illinois', zip: '60601', company: null }],
    subscriptions: [],
  },
]

export const DISCOUNT_CODES = [
  { code: 'WELCOME10', value: '10', value_type: 'percentage' },
  { code: 'FIVEOFF', value: '5.00', value_type: 'fixed_amount' },
] as const

/** Converts a USD cent price to the store currency's minor units (JPY: ¥150 per dollar, rounded to ¥10). */
export function localPrice(state: SimState, cents: number): number {
  return state.decimals === 2 ? cents : Math.round((cents * 1.5) / 10) * 10
}

/** A variant's seeded USD cent price. */
export function seedCents(productId: string, variantId: string): number {
  const product = PRODUCTS.find((candidate) => candidate.id === productId)
  return product?.variants.find((variant) => variant.id === variantId)?.cents ?? 0
}
