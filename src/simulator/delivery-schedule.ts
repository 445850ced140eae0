import { parseMoney } from '../infra/money.ts'
import { findVariant, imagesOf } from './catalog.ts'
import { addDays, addInterval } from './dates.ts'
import { nextDate } from './scheduling.ts'
import type { SimState } from './state.ts'
import type { Address, Charge, Customer, Onetime, PostalAddress, Subscription } from './types.ts'

/**
 * `GET /customers/{id}/delivery_schedule`: the customer's upcoming deliveries by date, then by address. Each active
 * subscription is projected forward from its next charge date by its order interval, so dates with no charge yet
 * appear (`charge_id: null`); a date skipped ahead of time appears with `is_skipped: true` on the skipped charge;
 * onetimes appear on their date. Shapes follow the recorded 2021-11 response; `is_skipped` is newer than that
 * recording (the storefront SDK's `DeliveryLineItem` documents it).
 */
export interface ScheduleWindow {
  /** How many delivery dates to answer. */
  count: number
  /** Last date included (inclusive), from `date_max` and/or today + `future_interval` days. */
  until: string | null
}

/** How many occurrences of one subscription are projected when asking "is this date in the schedule?". */
const PROJECTION_LIMIT = 100

type DeliveryLine = ReturnType<typeof deliveryLine>

export function deliverySchedule(state: SimState, customer: Customer, window: ScheduleWindow) {
  const today = state.today()
  const byDate = new Map<string, Map<number, DeliveryLine[]>>()
  const add = (date: string, addressId: number, line: DeliveryLine) => {
    if (date < today || (window.until !== null && date > window.until)) return
    let byAddress = byDate.get(date)
    if (!byAddress) {
      byAddress = new Map()
      byDate.set(date, byAddress)
    }
    const lines = byAddress.get(addressId)
    if (lines) lines.push(line)
    else byAddress.set(addressId, [line])
  }

  for (const subscription of state.subscriptions.ofCustomer(customer.id)) {
    if (subscription.status !== 'active') continue
    const dates = new Set(projectedDates(subscription, window.count, window.until))
    for (const charge of skippedChargesOf(state, subscription)) dates.add(charge.scheduled_at)
    for (const date of dates) {
      const skipped = skippedChargeOn(state, subscription, date)
      add(date, subscription.address_id, deliveryLine(state, subscription, skipped !== undefined))
    }
  }
  for (const onetime of state.onetimes.ofCustomer(customer.id)) {
    if (onetime.is_cancelled) continue
    add(onetime.next_charge_scheduled_at, onetime.address_id, deliveryLine(state, onetime, false))
  }

  const dates = [...byDate.keys()].sort().slice(0, window.count)
  return {
    customer: {
      id: customer.id,
      email: customer.email,
      first_name: customer.first_name,
      last_name: customer.last_name,
    },
    deliveries: dates.map((date) => ({
      date,
      orders: [...(byDate.get(date) as Map<number, DeliveryLine[]>)].map(([addressId, lines]) =>
        deliveryOrder(state, date, addressId, lines),
      ),
    })),
  }
}

/** The subscription's coming delivery dates, starting at its next charge date. */
export function projectedDates(subscription: Subscription, count: number, until: string | null): string[] {
  const dates: string[] = []
  let date = subscription.next_charge_scheduled_at
  while (date && dates.length < count && (until === null || date <= until)) {
    dates.push(date)
    date = addInterval(date, subscription.order_interval_frequency, subscription.order_interval_unit)
  }
  return dates
}

/** Whether `date` is one of the subscription's scheduled deliveries (projected, or already skipped). */
export function isScheduledDate(state: SimState, subscription: Subscription, date: string): boolean {
  if (date < state.today()) return false
  if (skippedChargeOn(state, subscription, date)) return true
  return projectedDates(subscription, PROJECTION_LIMIT, date).includes(date)
}

/** The first date after `from` in the subscription's rhythm that was not skipped ahead of time. */
export function nextOpenDate(state: SimState, subscription: Subscription, from: string): string {
  let next = nextDate(subscription, from)
  for (let guard = 0; guard < PROJECTION_LIMIT && skippedChargeOn(state, subscription, next); guard += 1) {
    next = nextDate(subscription, next)
  }
  return next
}

export function skippedChargeOn(state: SimState, subscription: Subscription, date: string): Charge | undefined {
  return skippedChargesOf(state, subscription).find((charge) => charge.scheduled_at === date)
}

function skippedChargesOf(state: SimState, subscription: Subscription): Charge[] {
  const found: Charge[] = []
  for (const charge of state.charges.ofCustomer(subscription.customer_id)) {
    if (charge.status !== 'skipped' || charge.address_id !== subscription.address_id) continue
    if (charge.scheduled_at < state.today()) continue
    if (charge.line_items.some((item) => item.purchase_item_id === subscription.id)) found.push(charge)
  }
  return found
}

function deliveryOrder(state: SimState, date: string, addressId: number, lines: DeliveryLine[]) {
  const address = state.addresses.get(addressId)
  const paymentMethod = address?.payment_method_id ? state.paymentMethods.get(address.payment_method_id) : undefined
  let charge: Charge | undefined
  for (const candidate of address ? state.charges.ofCustomer(address.customer_id) : state.charges.values()) {
    if (candidate.address_id !== addressId || candidate.scheduled_at !== date) continue
    if (candidate.status === 'queued') charge = candidate
    else if (candidate.status === 'skipped' && !charge) charge = candidate
  }
  return {
    id: null,
    address_id: addressId,
    charge_id: charge?.id ?? null,
    line_items: lines,
    payment_method: {
      id: paymentMethod?.id ?? null,
      billing_address: postal(paymentMethod?.billing_address),
      payment_details: {},
    },
    shipping_address: postal(address),
  }
}

function postal(source: PostalAddress | Address | undefined): PostalAddress {
  return {
    address1: source?.address1 ?? null,
    address2: source?.address2 ?? null,
    city: source?.city ?? null,
    company: source?.company ?? null,
    country_code: source?.country_code ?? null,
    first_name: source?.first_name ?? null,
    last_name: source?.last_name ?? null,
    phone: source?.phone ?? null,
    province: source?.province ?? null,
    zip: source?.zip ?? null,
  }
}

function deliveryLine(state: SimState, item: Subscription | Onetime, isSkipped: boolean) {
  const found = findVariant(state, item.external_product_id.ecommerce, item.external_variant_id.ecommerce)
  const isSubscription = 'order_interval_unit' in item
  const prepaid = isSubscription && item.is_prepaid
  const unit = parseMoney(item.price, state.decimals) ?? 0
  return {
    subscription_id: item.id,
    external_product_id: { ...item.external_product_id },
    external_variant_id: { ...item.external_variant_id },
    images: found ? imagesOf(found) : {},
    is_skippable: isSubscription && item.is_skippable && !prepaid,
    is_skipped: isSkipped,
    plan_type: isSubscription ? (prepaid ? 'prepaid' : 'subscription') : 'onetime',
    product_title: item.product_title,
    properties: item.properties.map((property) => ({ ...property })),
    quantity: item.quantity,
    subtotal_price: state.money(unit * item.quantity),
    unit_price: item.price,
    variant_title: item.variant_title,
  }
}

/** Reads `delivery_count_future` (default 7, at most 100), `future_interval` (days) and `date_max`. */
export function scheduleWindow(
  state: SimState,
  query: Record<string, string | undefined>,
  invalid: (field: string, message: string) => Error,
): ScheduleWindow {
  const count = readCount(query.delivery_count_future, 'delivery_count_future', 7, invalid)
  let until: string | null = null
  if (query.future_interval !== undefined) {
    until = addDays(state.today(), readCount(query.future_interval, 'future_interval', 0, invalid))
  }
  if (query.date_max !== undefined) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(query.date_max) || Number.isNaN(Date.parse(query.date_max)))
      throw invalid('date_max', 'Not a valid date.')
    if (until === null || query.date_max < until) until = query.date_max
  }
  return { count: Math.min(count, 100), until }
}

function readCount(
  value: string | undefined,
  field: string,
  fallback: number,
  invalid: (field: string, message: string) => Error,
): number {
  if (value === undefined) return fallback
  const parsed = Number(value)
  if (value.trim() === '' || !Number.isInteger(parsed) || parsed < 0) throw invalid(field, 'Not a valid integer.')
  return parsed
}
