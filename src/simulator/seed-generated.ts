import { applyPercentage } from '../infra/money.ts'
import { variantPriceMinor } from './catalog.ts'
import { addDays, dateOnly, isoNaive, isoOffset } from './dates.ts'
import { SeededRandom } from './random.ts'
import { newCharge, subscriptionLineItem } from './scheduling.ts'
import type { SimState } from './state.ts'
import type {
  Address,
  Customer,
  LineItem,
  PaymentMethod,
  Plan,
  Product,
  ProductVariant,
  Subscription,
} from './types.ts'

/**
 * `SIM_SEED_CUSTOMERS=<n>`: n generated shoppers on top of the hand-written data set, so a store can be as large as
 * a benchmark needs (10,000 customers seed in well under a second). Each gets a default card, one US address, 1–3
 * subscriptions on the seeded catalog's subscription plans (the first always active, the others sometimes
 * cancelled) and the queued charges of their next dates; no charge history. The records are drawn from a random
 * stream of their own (`<SIM_SEED>/generated-customers`), so adding them changes nothing in the hand-written data,
 * and their timestamps hang off the start of today (UTC): the same seed gives the same records and ids all day.
 */

const DAY_MS = 86_400_000
/** Ids of their own, far from the hand-written and API-created customers (`customer-created` starts at 83,000,001). */
const GENERATED_CUSTOMER_BASE = 84_000_001
export const GENERATED_EMAIL_DOMAIN = 'generated.example'

// biome-ignore format: a word list
const FIRST_NAMES = [
  'Ava', 'Ben', 'Chloe', 'Daniel', 'Ella', 'Finn', 'Grace', 'Hugo', 'Isla', 'Jack', 'Kara', 'Liam', 'Maya', 'Noah',
  'Olivia', 'Priya', 'Quinn', 'Ravi', 'Sofia', 'Theo', 'Uma', 'Victor', 'Wen', 'Yusuf', 'Zoe',
]
// biome-ignore format: a word list
const LAST_NAMES = [
  'Adams', 'Brooks', 'Carter', 'Dubois', 'Evans', 'Fischer', 'Garcia', 'Hughes', 'Ito', 'Jensen', 'Kowalski',
  'Lopez', 'Martin', 'Nguyen', 'Okafor', 'Patel', 'Rossi', 'Silva', 'Tanaka', 'Walsh', 'Young',
]
// biome-ignore format: a word list
const STREETS = [
  'Main Street', 'Oak Avenue', 'Maple Drive', 'Cedar Lane', 'Park Road', 'Pine Street', 'Washington Avenue',
  'Lake Street', 'Hill Road', 'River Drive', 'Sunset Boulevard', 'Church Street',
]
/** Real city, state and ZIP combinations, so address validation on the other side has nothing to object to. */
const PLACES: readonly { city: string; province: string; zip: string }[] = [
  { city: 'San Francisco', province: 'California', zip: '94110' },
  { city: 'Los Angeles', province: 'California', zip: '90026' },
  { city: 'San Diego', province: 'California', zip: '92101' },
  { city: 'Portland', province: 'Oregon', zip: '97214' },
  { city: 'Seattle', province: 'Washington', zip: '98103' },
  { city: 'Denver', province: 'Colorado', zip: '80205' },
  { city: 'Austin', province: 'Texas', zip: '78704' },
  { city: 'Chicago', province: 'Illinois', zip: '60614' },
  { city: 'Minneapolis', province: 'Minnesota', zip: '55408' },
  { city: 'Boston', province: 'Massachusetts', zip: '02116' },
  { city: 'Brooklyn', province: 'New York', zip: '11215' },
  { city: 'Philadelphia', province: 'Pennsylvania', zip: '19103' },
  { city: 'Atlanta', province: 'Georgia', zip: '30307' },
  { city: 'Miami', province: 'Florida', zip: '33131' },
  { city: 'Nashville', province: 'Tennessee', zip: '37203' },
  { city: 'Phoenix', province: 'Arizona', zip: '85004' },
]
const CANCELLATION_REASONS = ['I have too much coffee', 'It is too expensive', 'I want a different product']

/** A subscription plan of the catalog with one of its product's variants, and the discounted price it sells at. */
interface Offer {
  product: Product
  variant: ProductVariant
  plan: Plan
  preferences: NonNullable<Plan['subscription_preferences']>
  price: string
}

export function seedGeneratedCustomers(state: SimState, count: number): void {
  if (count <= 0) return
  const offers = subscriptionOffers(state)
  if (offers.length === 0) return
  const random = new SeededRandom(`${state.options.seed}/generated-customers`)
  const startOfToday = Date.parse(`${dateOnly(state.now())}T00:00:00Z`)
  for (let index = 1; index <= count; index += 1) {
    seedShopper({ state, random, offers, startOfToday }, index)
  }
}

interface GeneratorContext {
  state: SimState
  random: SeededRandom
  offers: readonly Offer[]
  startOfToday: number
}

function seedShopper(context: GeneratorContext, index: number): void {
  const { state, random, startOfToday } = context
  const first = random.pick(FIRST_NAMES)
  const last = random.pick(LAST_NAMES)
  // Joined 1–2 years ago at a second of the day; last touched somewhere between then and yesterday.
  const joined = startOfToday - random.int(30, 730) * DAY_MS + random.int(0, 86_399) * 1000
  const touched = joined + Math.floor(random.next() * (startOfToday - DAY_MS - joined))
  const customer: Customer = {
    id: state.nextId('customer-generated', GENERATED_CUSTOMER_BASE),
    analytics_data: { utm_params: [] },
    created_at: isoNaive(joined),
    email: `shopper${index}@${GENERATED_EMAIL_DOMAIN}`,
    external_customer_id: { ecommerce: String(8_000_000 + index) },
    first_charge_processed_at: isoNaive(joined),
    first_name: first,
    has_payment_method_in_dunning: false,
    has_valid_payment_method: true,
    hash: random.hex(30),
    last_name: last,
    phone: null,
    updated_at: isoNaive(touched),
  }
  state.customers.set(customer.id, customer)

  const place = random.pick(PLACES)
  const street = `${random.int(1, 9_899)} ${random.pick(STREETS)}`
  const phone = `555${String(random.int(1_000_000, 9_999_999))}`
  const method = paymentMethod(context, customer, { street, place, phone }, joined)
  state.paymentMethods.set(method.id, method)

  const address: Address = {
    id: state.nextId('address', 92_000_001),
    customer_id: customer.id,
    payment_method_id: method.id,
    address1: street,
    address2: random.next() < 0.2 ? `Apt ${random.int(1, 40)}` : null,
    city: place.city,
    company: null,
    country_code: 'US',
    created_at: isoOffset(joined),
    discounts: [],
    first_name: first,
    last_name: last,
    order_attributes: [],
    order_note: null,
    phone,
    presentment_currency: state.options.currency,
    province: place.province,
    shipping_lines_override: [],
    updated_at: isoOffset(joined),
    zip: place.zip,
  }
  state.addresses.set(address.id, address)

  const subscriptions = seedSubscriptions(context, address, joined)
  seedQueuedCharges(state, address, subscriptions)
}

function paymentMethod(
  context: GeneratorContext,
  customer: Customer,
  billing: { street: string; place: (typeof PLACES)[number]; phone: string },
  joined: number,
): PaymentMethod {
  const { state, random } = context
  return {
    id: state.nextId('payment_method', 55_000_001),
    customer_id: customer.id,
    billing_address: {
      address1: billing.street,
      address2: null,
      city: billing.place.city,
      company: null,
      country: 'United States',
      country_code: 'US',
      first_name: customer.first_name,
      last_name: customer.last_name,
      phone: billing.phone,
      province: billing.place.province,
      zip: billing.place.zip,
    },
    created_at: isoNaive(joined),
    default: true,
    include: {},
    payment_details: {
      brand: random.next() < 0.7 ? 'visa' : 'mastercard',
      exp_month: random.int(1, 12),
      exp_year: new Date(context.startOfToday).getUTCFullYear() + random.int(1, 5),
      last4: String(random.int(1000, 9999)),
    },
    payment_type: 'CREDIT_CARD',
    processor_customer_token: `cus_sim${random.hex(14)}`,
    processor_name: 'stripe',
    processor_payment_method_token: `pm_sim${random.hex(14)}`,
    status: 'valid',
    status_reason: null,
    updated_at: isoNaive(joined),
  }
}

/** 1–3 subscriptions on distinct products; the first is active, a later one is cancelled one time in six. */
function seedSubscriptions(context: GeneratorContext, address: Address, joined: number): Subscription[] {
  const { state, random, offers, startOfToday } = context
  const wanted = random.int(1, 3)
  const products = new Set<string>()
  const created: Subscription[] = []
  for (let attempt = 0; created.length < wanted && attempt < 10; attempt += 1) {
    const offer = random.pick(offers)
    if (products.has(offer.product.external_product_id)) continue
    products.add(offer.product.external_product_id)
    const cancelled = created.length > 0 && random.int(1, 6) === 1
    const since = joined + random.int(0, 6) * DAY_MS
    const changed = since + Math.floor(random.next() * Math.max(0, startOfToday - since))
    const subscription: Subscription = {
      id: state.nextId('subscription', 219_400_001),
      address_id: address.id,
      customer_id: address.customer_id,
      analytics_data: { utm_params: [] },
      cancellation_reason: cancelled ? random.pick(CANCELLATION_REASONS) : null,
      cancellation_reason_comments: null,
      cancelled_at: cancelled ? isoOffset(changed) : null,
      charge_interval_frequency: offer.preferences.charge_interval_frequency,
      created_at: isoOffset(since),
      expire_after_specific_number_of_charges: null,
      external_product_id: { ecommerce: offer.product.external_product_id },
      external_variant_id: { ecommerce: offer.variant.external_variant_id },
      is_prepaid: false,
      is_skippable: true,
      is_swappable: true,
      max_retries_reached: false,
      // Always ahead of today, so moving the clock a little bills nothing by surprise.
      next_charge_scheduled_at: cancelled ? null : addDays(dateOnly(startOfToday), random.int(1, 45)),
      order_day_of_month: null,
      order_day_of_week: null,
      order_interval_frequency: offer.preferences.order_interval_frequency,
      order_interval_unit: offer.preferences.interval_unit,
      presentment_currency: state.options.currency,
      price: offer.price,
      product_title: offer.product.title,
      properties: [],
      quantity: random.int(1, 3),
      sku: null,
      sku_override: false,
      status: cancelled ? 'cancelled' : 'active',
      updated_at: isoOffset(changed),
      variant_title: offer.variant.title,
    }
    state.subscriptions.set(subscription.id, subscription)
    created.push(subscription)
  }
  return created
}

/**
 * What `rebuildQueuedCharges` would make of a fresh address (one QUEUED charge per date holding its active
 * subscriptions), built directly: that function looks at every record of the store, which n times over is O(n²).
 */
function seedQueuedCharges(state: SimState, address: Address, subscriptions: readonly Subscription[]): void {
  const byDate = new Map<string, { items: LineItem[]; changed: string }>()
  for (const subscription of subscriptions) {
    const date = subscription.next_charge_scheduled_at
    if (subscription.status !== 'active' || !date) continue
    const entry = byDate.get(date) ?? { items: [], changed: subscription.updated_at }
    entry.items.push(subscriptionLineItem(state, subscription))
    if (subscription.updated_at > entry.changed) entry.changed = subscription.updated_at
    byDate.set(date, entry)
  }
  for (const [date, { items, changed }] of [...byDate].sort(([a], [b]) => a.localeCompare(b))) {
    const charge = newCharge(state, address, date, items, 'queued', 'recurring')
    charge.created_at = changed
    charge.updated_at = changed
    state.charges.set(charge.id, charge)
  }
}

/** Every (subscription plan, variant) of the seeded catalog, priced as checkout would price it. */
function subscriptionOffers(state: SimState): Offer[] {
  const offers: Offer[] = []
  for (const plan of state.plans.values()) {
    const preferences = plan.subscription_preferences
    if (plan.type !== 'subscription' || !preferences || plan.deleted_at) continue
    const product = state.products.get(plan.external_product_id.ecommerce ?? '')
    if (!product) continue
    for (const variant of product.variants) {
      const price = applyPercentage(variantPriceMinor(state, variant), Number(plan.discount_amount ?? 0))
      offers.push({ product, variant, plan, preferences, price: state.money(price) })
    }
  }
  return offers
}
