import { applyPercentage } from '../infra/money.ts'
import { addDays, addInterval, dateOnly, isoOffset } from './dates.ts'
import { orderFromCharge } from './orders.ts'
import type { SeededRandom } from './random.ts'
import { newCharge, rebuildQueuedCharges, subscriptionLineItem } from './scheduling.ts'
import { CUSTOMERS, type CustomerSeed, localPrice, seedCents } from './seed-data.ts'
import type { SimState } from './state.ts'
import type { Address, Customer, PaymentMethod, Plan, Product, ProductVariant, Subscription } from './types.ts'

/** What every part of the seed shares. `random` is drawn in one fixed order: same SIM_SEED, same data. */
export interface SeedContext {
  state: SimState
  random: SeededRandom
  /** The simulator's "now" (epoch ms): dates are relative to it. */
  now: number
  createdOffset: string
  createdNaive: string
}

/** The customers of the data set, each with their cards, addresses, subscriptions and charge history. */
export function seedCustomers(context: SeedContext): void {
  for (const seed of CUSTOMERS) {
    const customer = seedCustomer(context, seed)
    const paymentMethodId = seedPaymentMethods(context, seed, customer)
    const addresses = seedAddresses(context, seed, customer, paymentMethodId)
    for (const entry of seed.subscriptions) {
      seedSubscription(context, customer, addresses[entry.address] as Address, entry)
    }
    seedHistory(context, addresses)
  }
}

function seedCustomer(context: SeedContext, seed: CustomerSeed): Customer {
  const { state, random, createdNaive } = context
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
  return customer
}

/** The customer's default card (billed from the first address), and a spare one when the seed asks for it. */
function seedPaymentMethods(context: SeedContext, seed: CustomerSeed, customer: Customer): number {
  const { state, random, createdNaive } = context
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
  return paymentMethodId
}

function seedAddresses(
  context: SeedContext,
  seed: CustomerSeed,
  customer: Customer,
  paymentMethodId: number,
): Address[] {
  const { state, random, createdOffset } = context
  const currency = state.options.currency
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
  return addresses
}

function seedSubscription(
  context: SeedContext,
  customer: Customer,
  address: Address,
  entry: CustomerSeed['subscriptions'][number],
): void {
  const { state, now, createdOffset } = context
  const today = dateOnly(now)
  const currency = state.options.currency
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

/** Two past (processed) charges per address with orders, then the queued ones. */
function seedHistory(context: SeedContext, addresses: readonly Address[]): void {
  const { state, random, now } = context
  const today = dateOnly(now)
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
