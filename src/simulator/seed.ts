import { applyPercentage } from '../infra/money.ts'
import { addDays, addInterval, dateOnly, type IntervalUnit, isoNaive, isoOffset } from './dates.ts'
import { orderFromCharge } from './orders.ts'
import { SeededRandom } from './random.ts'
import { newCharge, rebuildQueuedCharges, subscriptionLineItem } from './scheduling.ts'
import { seedDunningShopper } from './seed-dunning.ts'
import type { SimState } from './state.ts'
import type { Address, Customer, PaymentMethod, Plan, Product, ProductVariant, Subscription } from './types.ts'

/**
 * The deterministic data set: a small coffee roaster with six products (subscription, prepaid and onetime plans),
 * five customers (alice@example.com and bob@example.com are the documented demo shoppers), their addresses,
 * payment methods, active and cancelled subscriptions, queued charges and past charges with orders.
 * Same SIM_SEED → same ids, names, hashes and prices; dates are relative to the simulator's "today".
 */
interface ProductSeed {
  id: string
  title: string
  description: string
  vendor: string
  option: string
  variants: { id: string; title: string; cents: number; compareAt: number | null; grams: number; sku: string }[]
  plans: PlanSeed[]
}

interface PlanSeed {
  title: string
  type: Plan['type']
  discount: number | null
  chargeEvery?: number
  orderEvery?: number
  unit?: IntervalUnit
}

const PRODUCTS: ProductSeed[] = [
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

interface CustomerSeed {
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

const CUSTOMERS: CustomerSeed[] = [
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
function localPrice(state: SimState, cents: number): number {
  return state.decimals === 2 ? cents : Math.round((cents * 1.5) / 10) * 10
}

export function seedState(state: SimState): void {
  const random = new SeededRandom(state.options.seed)
  const now = state.now()
  const created = now - 400 * 86_400_000
  const createdOffset = isoOffset(created)
  const createdNaive = isoNaive(created)
  const today = dateOnly(now)
  const currency = state.options.currency

  state.store = {
    id: 100_000 + random.int(1, 89_999),
    checkout_logo_url: null,
    checkout_platform: 'recharge',
    created_at: createdOffset,
    currency,
    customer_portal_domain: '',
    disabled_currencies_historical: [],
    domain: `${state.options.storeSubdomain}.example.com`,
    email: `owner@${state.options.storeSubdomain}.example.com`,
    enabled_presentment_currencies: [currency],
    enabled_presentment_currencies_symbols: [
      { currency, location: 'before', suffix: '', symbol: currency === 'JPY' ? '¥' : currency === 'EUR' ? '€' : '$' },
    ],
    external_platform: 'headless',
    iana_timezone: 'UTC',
    merchant_portal_domain: `${state.options.storeSubdomain}.admin.rechargeapps.com`,
    name: state.options.storeName,
    phone: null,
    platform: 'api',
    subdomain: state.options.storeSubdomain,
    timezone: '(GMT+00:00) UTC',
    updated_at: createdOffset,
    weight_unit: 'g',
  }

  for (const discount of DISCOUNT_CODES) {
    const value = discount.value_type === 'fixed_amount' ? state.money(localPrice(state, 500)) : discount.value
    state.discounts.set(discount.code, { code: discount.code, value, value_type: discount.value_type })
  }

  // Catalog: products (keyed by external id) and their plans.
  for (const seed of PRODUCTS) {
    const image = (name: string) => {
      const base = `https://cdn.simulator.invalid/products/${seed.id}/${name}`
      return {
        large: `${base}_large.jpg`,
        medium: `${base}_medium.jpg`,
        original: `${base}.jpg`,
        small: `${base}_small.jpg`,
      }
    }
    const variants: ProductVariant[] = seed.variants.map((variant) => ({
      dimensions: { height: null, length: null, unit: 'cm', width: null },
      external_variant_id: variant.id,
      fulfillment_service: 'manual',
      image: image(variant.sku.toLowerCase()),
      option_values: [{ label: variant.title }],
      prices: {
        compare_at_price: variant.compareAt === null ? null : state.money(localPrice(state, variant.compareAt)),
        unit_price: state.money(localPrice(state, variant.cents)),
      },
      requires_shipping: true,
      sku: variant.sku,
      tax_code: null,
      taxable: true,
      title: variant.title,
      weight: { unit: 'g', value: variant.grams },
    }))
    const product: Product = {
      brand: seed.vendor,
      created_at: createdOffset,
      description: seed.description,
      external_created_at: createdOffset,
      external_product_id: seed.id,
      external_updated_at: createdOffset,
      images: [{ ...image('main'), sort_order: 1 }],
      options: [
        {
          name: seed.option,
          position: 1,
          values: seed.variants.map((variant, index) => ({ label: variant.title, position: index + 1 })),
        },
      ],
      published_at: createdOffset,
      requires_shipping: true,
      title: seed.title,
      updated_at: createdOffset,
      variants,
      vendor: seed.vendor,
    }
    state.products.set(product.external_product_id, product)
    seed.plans.forEach((planSeed, index) => {
      const plan: Plan = {
        id: state.nextId('plan', 4_100_001),
        channel_settings: {
          api: { display: true },
          checkout_page: { display: true },
          customer_portal: { display: true },
          merchant_portal: { display: true },
        },
        created_at: createdOffset,
        deleted_at: null,
        discount_amount: planSeed.discount === null ? null : planSeed.discount.toFixed(2),
        discount_type: planSeed.discount === null ? null : 'percentage',
        external_product_id: { ecommerce: seed.id },
        external_variant_ids: [],
        has_variant_restrictions: false,
        sort_order: index,
        subscription_preferences:
          planSeed.type === 'onetime'
            ? null
            : {
                apply_cutoff_date_to_checkout: false,
                charge_interval_frequency: planSeed.chargeEvery as number,
                cutoff_day_of_month: null,
                cutoff_day_of_week: null,
                expire_after_specific_number_of_charges: null,
                interval_unit: planSeed.unit as IntervalUnit,
                order_day_of_month: null,
                order_day_of_week: null,
                order_interval_frequency: planSeed.orderEvery as number,
              },
        title: planSeed.title,
        type: planSeed.type,
        updated_at: createdOffset,
      }
      state.plans.set(plan.id, plan)
    })
  }

  // Customers, their addresses, payment methods and subscriptions.
  for (const seed of CUSTOMERS) {
    const customer: Customer = {
      id: state.nextId('customer', 82_940_001 + random.int(0, 50) * 100),
      analytics_data: { utm_params: [] },
      created_at: createdNaive,
      email: seed.email,
      external_customer_id: { ecommerce: seed.externalId },
      first_charge_processed_at: seed.subscriptions.length > 0 ? createdNaive : null,
      first_name: seed.first,
      has_payment_method_in_dunning: false,
      has_valid_payment_method: true,
      hash: random.hex(30),
      last_name: seed.last,
      updated_at: createdNaive,
    }
    state.customers.set(customer.id, customer)

    const paymentMethodId = state.nextId('payment_method', 55_000_001)
    const firstAddress = seed.addresses[0]
    state.paymentMethods.set(paymentMethodId, {
      id: paymentMethodId,
      customer_id: customer.id,
      billing_address: {
        address1: firstAddress?.address1 ?? null,
        address2: null,
        city: firstAddress?.city ?? null,
        company: null,
        country: 'United States',
        country_code: 'US',
        first_name: seed.first,
        last_name: seed.last,
        phone: null,
        province: firstAddress?.province ?? null,
        zip: firstAddress?.zip ?? null,
      },
      created_at: createdNaive,
      default: true,
      include: {},
      payment_details: {
        brand: 'visa',
        exp_month: random.int(1, 12),
        exp_year: 2031,
        last4: String(random.int(1000, 9999)),
      },
      payment_type: 'CREDIT_CARD',
      processor_customer_token: `cus_sim${random.hex(14)}`,
      processor_name: 'stripe',
      processor_payment_method_token: `pm_sim${random.hex(14)}`,
      status: 'valid',
      status_reason: null,
      updated_at: createdNaive,
    })

    if (seed.spareCard) {
      const spareId = state.nextId('payment_method', 55_000_001)
      const primary = state.paymentMethods.get(paymentMethodId) as PaymentMethod
      state.paymentMethods.set(spareId, {
        ...structuredClone(primary),
        id: spareId,
        default: false,
        payment_details: { brand: 'mastercard', exp_month: 6, exp_year: 2029, last4: String(random.int(1000, 9999)) },
        processor_payment_method_token: `pm_sim${random.hex(14)}`,
      })
    }

    const addresses: Address[] = seed.addresses.map((entry) => {
      const address: Address = {
        id: state.nextId('address', 92_000_001),
        customer_id: customer.id,
        payment_method_id: paymentMethodId,
        address1: entry.address1,
        address2: null,
        city: entry.city,
        company: entry.company,
        country_code: 'US',
        created_at: createdOffset,
        discounts: [],
        first_name: seed.first,
        last_name: seed.last,
        order_attributes: [],
        order_note: null,
        phone: `555${String(random.int(1_000_000, 9_999_999))}`,
        presentment_currency: currency,
        province: entry.province,
        shipping_lines_override: [],
        updated_at: createdOffset,
        zip: entry.zip,
      }
      state.addresses.set(address.id, address)
      return address
    })

    for (const entry of seed.subscriptions) {
      const address = addresses[entry.address] as Address
      const product = state.products.get(entry.product) as Product
      const variant = product.variants.find(
        (candidate) => candidate.external_variant_id === entry.variant,
      ) as ProductVariant
      const plan = [...state.plans.values()].find(
        (candidate) => candidate.external_product_id.ecommerce === entry.product && candidate.title === entry.planTitle,
      ) as Plan
      const preferences = plan.subscription_preferences as NonNullable<Plan['subscription_preferences']>
      const base = localPrice(state, seedCents(entry.product, entry.variant))
      const price = applyPercentage(base, Number(plan.discount_amount ?? 0))
      const subscription: Subscription = {
        id: state.nextId('subscription', 219_400_001),
        address_id: address.id,
        customer_id: customer.id,
        analytics_data: { utm_params: [] },
        cancellation_reason: entry.cancelled ? 'I have too much coffee' : null,
        cancellation_reason_comments: entry.cancelled ? 'Will be back after the holidays' : null,
        cancelled_at: entry.cancelled ? isoOffset(now - 20 * 86_400_000) : null,
        charge_interval_frequency: preferences.charge_interval_frequency,
        created_at: createdOffset,
        expire_after_specific_number_of_charges: null,
        external_product_id: { ecommerce: product.external_product_id },
        external_variant_id: { ecommerce: variant.external_variant_id },
        is_prepaid: plan.type === 'prepaid',
        is_skippable: true,
        is_swappable: true,
        max_retries_reached: false,
        next_charge_scheduled_at: entry.cancelled ? null : addDays(today, entry.nextInDays),
        order_day_of_month: null,
        order_day_of_week: null,
        order_interval_frequency: preferences.order_interval_frequency,
        order_interval_unit: preferences.interval_unit,
        presentment_currency: currency,
        price: state.money(price),
        product_title: product.title,
        properties: [],
        quantity: entry.quantity,
        sku: null,
        sku_override: false,
        status: entry.cancelled ? 'cancelled' : 'active',
        updated_at: createdOffset,
        variant_title: variant.title,
      }
      state.subscriptions.set(subscription.id, subscription)
    }

    // Two past (processed) charges per address with orders, then the queued ones.
    for (const address of addresses) {
      const subscriptions = [...state.subscriptions.values()].filter((sub) => sub.address_id === address.id)
      if (subscriptions.length === 0) continue
      for (const cycle of [2, 1]) {
        const reference = subscriptions[0] as Subscription
        const anchor = reference.next_charge_scheduled_at ?? addDays(today, -10)
        let date = anchor
        for (let step = 0; step < cycle; step += 1)
          date = addInterval(date, -reference.charge_interval_frequency, reference.order_interval_unit)
        const processedAt = Date.parse(`${date}T09:00:00Z`)
        const items = subscriptions.map((sub) => subscriptionLineItem(state, sub))
        const charge = newCharge(state, address, date, items, 'success', cycle === 2 ? 'checkout' : 'recurring')
        charge.processed_at = isoOffset(processedAt)
        charge.created_at = isoOffset(processedAt - 3 * 86_400_000)
        charge.updated_at = isoOffset(processedAt)
        charge.orders_count = 1
        charge.external_transaction_id = { payment_processor: `ch_sim${random.hex(20)}` }
        charge.external_order_id = { ecommerce: String(5_100_000_000 + charge.id) }
        state.charges.set(charge.id, charge)
        const order = orderFromCharge(state, charge)
        state.orders.set(order.id, order)
      }
      rebuildQueuedCharges(state, address.id)
    }
  }
  seedDunningShopper(state)
}

function seedCents(productId: string, variantId: string): number {
  const product = PRODUCTS.find((candidate) => candidate.id === productId)
  return product?.variants.find((variant) => variant.id === variantId)?.cents ?? 0
}
