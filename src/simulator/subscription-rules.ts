import { applyPercentage, parseMoney } from '../infra/money.ts'
import { findVariant, variantPriceMinor } from './catalog.ts'
import { addDays, addInterval, type IntervalUnit, isDate } from './dates.ts'
import { fieldError, SimError, unprocessable } from './errors.ts'
import { rebuildQueuedCharges } from './scheduling.ts'
import type { SimState } from './state.ts'
import type { Subscription } from './types.ts'
import { subscriptionView } from './views.ts'

/** Subscription state changes with Recharge's rules (validation messages as the recorded responses show them). */
const UNITS: readonly IntervalUnit[] = ['day', 'week', 'month']

export function readUnit(value: unknown, field: string): IntervalUnit {
  const unit = typeof value === 'string' ? value.toLowerCase().replace(/s$/, '') : ''
  if (!UNITS.includes(unit as IntervalUnit)) throw fieldError(field, 'Must be one of: day, week, month.')
  return unit as IntervalUnit
}

export function readFrequency(value: unknown, field: string): number {
  const number = typeof value === 'string' ? Number(value) : value
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 1)
    throw fieldError(field, 'Not a valid integer.')
  return number
}

export function readQuantity(value: unknown): number {
  const number = typeof value === 'string' ? Number(value) : value
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 1) {
    throw fieldError('quantity', 'Must be greater than or equal to 1.')
  }
  return number
}

/** The first scheduled date after today, stepping from the last processed charge by the (new) interval. */
export function recomputeNextDate(state: SimState, subscription: Subscription): string {
  const today = state.today()
  let base = subscription.created_at.slice(0, 10)
  for (const charge of state.charges.ofCustomer(subscription.customer_id)) {
    if (charge.status !== 'success' || charge.scheduled_at <= base) continue
    if (
      charge.line_items.some(
        (item) => item.purchase_item_type === 'subscription' && item.purchase_item_id === subscription.id,
      )
    ) {
      base = charge.scheduled_at
    }
  }
  let next = addInterval(base, subscription.charge_interval_frequency, subscription.order_interval_unit)
  for (let guard = 0; next <= today && guard < 10_000; guard += 1) {
    next = addInterval(next, subscription.charge_interval_frequency, subscription.order_interval_unit)
  }
  return next
}

export function emitSubscription(state: SimState, topic: string, subscription: Subscription): void {
  state.emit(topic, () => ({ subscription: subscriptionView(state, subscription) }))
}

/** PUT /subscriptions/{id}: quantity, price, variant swap, interval changes (recomputing the next date), etc. */
export function updateSubscription(state: SimState, subscription: Subscription, body: Record<string, unknown>): void {
  const touchesInterval =
    body.order_interval_unit !== undefined ||
    body.charge_interval_frequency !== undefined ||
    body.order_interval_frequency !== undefined
  if (
    body.order_interval_unit !== undefined &&
    (body.charge_interval_frequency === undefined || body.order_interval_frequency === undefined)
  ) {
    throw new SimError(422, {
      errors: {
        charge_interval_unit_type:
          'when passing order_interval_unit provide charge_interval_frequency and order_interval_frequency to update the interval information',
      },
    })
  }
  const next: Partial<Subscription> = {}
  if (body.quantity !== undefined) next.quantity = readQuantity(body.quantity)
  if (body.price !== undefined) {
    const minor = parseMoney(body.price, state.decimals)
    if (minor === null || minor < 0) throw fieldError('price', 'Not a valid number.')
    next.price = state.money(minor)
  }
  if (body.charge_interval_frequency !== undefined)
    next.charge_interval_frequency = readFrequency(body.charge_interval_frequency, 'charge_interval_frequency')
  if (body.order_interval_frequency !== undefined)
    next.order_interval_frequency = readFrequency(body.order_interval_frequency, 'order_interval_frequency')
  if (body.order_interval_unit !== undefined)
    next.order_interval_unit = readUnit(body.order_interval_unit, 'order_interval_unit')

  let swapped = false
  const variantId = readId(body.external_variant_id)
  const productId = readId(body.external_product_id) ?? subscription.external_product_id.ecommerce
  if (
    variantId !== null &&
    (variantId !== subscription.external_variant_id.ecommerce ||
      productId !== subscription.external_product_id.ecommerce)
  ) {
    const found = findVariant(state, productId, variantId)
    if (!found) throw unprocessable({ external_variant_id: ['Variant not found for this product.'] })
    next.external_product_id = { ecommerce: found.product.external_product_id }
    next.external_variant_id = { ecommerce: found.variant.external_variant_id }
    next.product_title = found.product.title
    next.variant_title = found.variant.title
    if (body.price === undefined) {
      const ratio = (parseMoney(subscription.price, state.decimals) ?? 0) / (originalPrice(state, subscription) || 1)
      const percent = Math.max(0, Math.min(100, Math.round((1 - ratio) * 100)))
      next.price = state.money(applyPercentage(variantPriceMinor(state, found.variant), percent))
    }
    swapped = true
  }
  if (typeof body.product_title === 'string') next.product_title = body.product_title
  if (typeof body.variant_title === 'string') next.variant_title = body.variant_title
  if (typeof body.sku === 'string' || body.sku === null) next.sku = body.sku as string | null
  if (Array.isArray(body.properties)) next.properties = body.properties as Subscription['properties']
  if (body.expire_after_specific_number_of_charges !== undefined) {
    next.expire_after_specific_number_of_charges =
      body.expire_after_specific_number_of_charges === null
        ? null
        : readFrequency(body.expire_after_specific_number_of_charges, 'expire_after_specific_number_of_charges')
  }

  Object.assign(subscription, next)
  if (touchesInterval && subscription.status === 'active')
    subscription.next_charge_scheduled_at = recomputeNextDate(state, subscription)
  subscription.updated_at = state.timestamp()
  rebuildQueuedCharges(state, subscription.address_id)
  emitSubscription(state, 'subscription/updated', subscription)
  if (swapped) emitSubscription(state, 'subscription/swapped', subscription)
}

export function cancelSubscription(state: SimState, subscription: Subscription, body: Record<string, unknown>): void {
  if (typeof body.cancellation_reason !== 'string' || body.cancellation_reason.trim() === '') {
    throw fieldError('cancellation_reason', 'Missing data for required field.')
  }
  if (subscription.status === 'cancelled') return
  subscription.status = 'cancelled'
  subscription.cancellation_reason = body.cancellation_reason
  subscription.cancellation_reason_comments =
    typeof body.cancellation_reason_comments === 'string' ? body.cancellation_reason_comments : null
  subscription.cancelled_at = `${new Date(state.now()).toISOString().replace('Z', '')}+00:00`
  subscription.next_charge_scheduled_at = null
  subscription.updated_at = state.timestamp()
  state.pauses.delete(subscription.id)
  rebuildQueuedCharges(state, subscription.address_id)
  emitSubscription(state, 'subscription/cancelled', subscription)
  deactivateIfLast(state, subscription.customer_id)
}

export function activateSubscription(state: SimState, subscription: Subscription): void {
  if (subscription.status === 'active') return
  const wasInactiveCustomer = !state.subscriptions
    .ofCustomer(subscription.customer_id)
    .some((sub) => sub.status === 'active')
  subscription.status = 'active'
  subscription.cancellation_reason = null
  subscription.cancellation_reason_comments = null
  subscription.cancelled_at = null
  subscription.next_charge_scheduled_at = addDays(state.today(), 1)
  subscription.updated_at = state.timestamp()
  rebuildQueuedCharges(state, subscription.address_id)
  emitSubscription(state, 'subscription/activated', subscription)
  const customer = state.customers.get(subscription.customer_id)
  if (wasInactiveCustomer && customer)
    state.emit('customer/activated', { customer: { id: customer.id, email: customer.email } })
}

/**
 * `POST /subscriptions/{id}/set_next_charge_date` `{date}`. With `pause` (the storefront SDK's and portal theme's
 * `?pause=true`) the move is a pause: Recharge 2021-11 has no paused status, the subscription stays `active` with its
 * next charge on the resume date, and subscription/paused follows subscription/updated. A move without `pause` ends
 * any pause (that is how a pause is resumed early).
 */
export function setNextChargeDate(
  state: SimState,
  subscription: Subscription,
  body: Record<string, unknown>,
  options: { pause?: boolean } = {},
): void {
  const date = body.date
  if (date === undefined || date === null || date === '') throw fieldError('date', 'Missing data for required field.')
  if (!isDate(date)) throw fieldError('date', 'Not a valid date.')
  if (date <= state.today()) throw fieldError('date', 'date is not far enough in the future')
  if (subscription.status !== 'active') throw unprocessable({ status: ['Subscription is not active.'] })
  subscription.next_charge_scheduled_at = date
  subscription.updated_at = state.timestamp()
  if (options.pause) {
    state.pauses.set(subscription.id, {
      subscription_id: subscription.id,
      paused_at: subscription.updated_at,
      resumes_on: date,
    })
  } else {
    state.pauses.delete(subscription.id)
  }
  rebuildQueuedCharges(state, subscription.address_id)
  emitSubscription(state, 'subscription/updated', subscription)
  if (options.pause) emitSubscription(state, 'subscription/paused', subscription)
}

function deactivateIfLast(state: SimState, customerId: number): void {
  const stillActive = state.subscriptions.ofCustomer(customerId).some((sub) => sub.status === 'active')
  const customer = state.customers.get(customerId)
  if (!stillActive && customer)
    state.emit('customer/deactivated', { customer: { id: customer.id, email: customer.email } })
}

function originalPrice(state: SimState, subscription: Subscription): number {
  const found = findVariant(
    state,
    subscription.external_product_id.ecommerce,
    subscription.external_variant_id.ecommerce,
  )
  return found ? variantPriceMinor(state, found.variant) : (parseMoney(subscription.price, state.decimals) ?? 0)
}

function readId(value: unknown): string | null {
  if (typeof value === 'string' && value !== '') return value
  if (typeof value === 'number') return String(value)
  if (value && typeof value === 'object') {
    const inner = (value as { ecommerce?: unknown }).ecommerce
    if (typeof inner === 'string' && inner !== '') return inner
    if (typeof inner === 'number') return String(inner)
  }
  return null
}
