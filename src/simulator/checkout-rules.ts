import { randomBytes } from 'node:crypto'
import { applyPercentage, parseMoney } from '../infra/money.ts'
import { readLines } from './checkout-lines.ts'
import { fieldError, SimError, unprocessable } from './errors.ts'
import { readPostal } from './postal.ts'
import type { SimState } from './state.ts'
import type { Checkout, PostalAddress, ShippingRate } from './types.ts'

type Body = Record<string, unknown>

/**
 * The Checkouts API: build a checkout from line items (checkout-lines.ts), apply address / shipping rate / discount
 * updates and keep its totals. Charging it is checkout-processing.ts.
 */
export function createCheckout(state: SimState, body: Body): Checkout {
  const lines = readLines(state, body.line_items)
  const now = state.timestamp()
  const checkout: Checkout = {
    token: randomBytes(16).toString('hex'),
    analytics_data: {
      utm_params: Array.isArray((body.analytics_data as Body | undefined)?.utm_params)
        ? ((body.analytics_data as Body).utm_params as unknown[])
        : [],
    },
    applied_discount: null,
    billing_address: null,
    buyer_accepts_marketing: body.buyer_accepts_marketing === true,
    charge_id: null,
    completed_at: null,
    created_at: now,
    currency: state.options.currency,
    discount_code: null,
    email: null,
    external_checkout_id: typeof body.external_checkout_id === 'string' ? body.external_checkout_id : null,
    external_checkout_source: typeof body.external_checkout_source === 'string' ? body.external_checkout_source : null,
    external_transaction_id: { payment_processor: null },
    line_items: lines,
    note: typeof body.note === 'string' ? body.note : null,
    order_attributes: Array.isArray(body.order_attributes)
      ? (body.order_attributes as Checkout['order_attributes'])
      : [],
    order_id: null,
    payment_processor: null,
    phone: null,
    requires_shipping: lines.some((line) => line.requires_shipping),
    shipping_address: null,
    shipping_line: null,
    subtotal_price: '',
    tax_lines: [],
    taxes_included: false,
    total_price: '',
    total_tax: state.money(0),
    updated_at: now,
  }
  applyCheckoutUpdate(state, checkout, body, true)
  return checkout
}

export function applyCheckoutUpdate(state: SimState, checkout: Checkout, body: Body, creating = false): void {
  if (checkout.completed_at) throw new SimError(422, { errors: 'Checkout has already been processed.' })
  if (!creating && body.line_items !== undefined) {
    checkout.line_items = readLines(state, body.line_items)
    checkout.requires_shipping = checkout.line_items.some((line) => line.requires_shipping)
  }
  if (body.email !== undefined) {
    if (body.email !== null && (typeof body.email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(body.email))) {
      throw fieldError('email', 'Not a valid email address.')
    }
    checkout.email = body.email as string | null
  }
  if (typeof body.phone === 'string' || body.phone === null) checkout.phone = body.phone as string | null
  if (typeof body.note === 'string') checkout.note = body.note
  if (typeof body.buyer_accepts_marketing === 'boolean') checkout.buyer_accepts_marketing = body.buyer_accepts_marketing
  if (body.shipping_address !== undefined) {
    checkout.shipping_address =
      body.shipping_address === null ? null : readAddressBody(body.shipping_address, 'shipping_address')
    checkout.shipping_line = null // rates depend on the address
  }
  if (body.billing_address !== undefined) {
    checkout.billing_address =
      body.billing_address === null ? null : readAddressBody(body.billing_address, 'billing_address')
  }
  const rateHandle = readHandle(body.shipping_line) ?? readHandle(body.applied_shipping_rate)
  if (rateHandle !== null) {
    if (!checkout.shipping_address)
      throw fieldError('shipping_line', 'A shipping address is required before choosing a shipping rate.')
    const rate = shippingRates(state, checkout).find(
      (candidate) => candidate.handle === rateHandle || candidate.code === rateHandle,
    )
    if (!rate) throw fieldError('shipping_line', `Unknown shipping rate: ${rateHandle}`)
    checkout.shipping_line = rate
  }
  const code = body.discount_code !== undefined ? body.discount_code : readAppliedDiscount(body.applied_discounts)
  if (code !== undefined) {
    if (code === null || code === '') {
      checkout.discount_code = null
      checkout.applied_discount = null
    } else {
      const discount = state.discounts.get(String(code).toUpperCase())
      if (!discount) throw fieldError('discount_code', `Discount code ${String(code)} is invalid.`)
      checkout.discount_code = discount.code
      checkout.applied_discount = { code: discount.code, value: discount.value, value_type: discount.value_type }
    }
  }
  applyCheckoutTotals(state, checkout)
  checkout.updated_at = state.timestamp()
}

export function shippingRates(state: SimState, checkout: Checkout): ShippingRate[] {
  if (!checkout.shipping_address)
    throw fieldError('shipping_address', 'A shipping address is required to calculate shipping rates.')
  const price = (cents: number) => state.money(state.decimals === 2 ? cents : Math.round((cents * 1.5) / 10) * 10)
  return [
    {
      code: 'Standard',
      handle: 'simulator-standard-5',
      price: price(500),
      source: 'recharge',
      title: 'Standard Shipping (3–5 days)',
    },
    {
      code: 'Express',
      handle: 'simulator-express-15',
      price: price(1500),
      source: 'recharge',
      title: 'Express Shipping (1–2 days)',
    },
  ]
}

function subtotalOf(state: SimState, checkout: Checkout): number {
  return checkout.line_items.reduce(
    (sum, line) => sum + (parseMoney(line.unit_price, state.decimals) ?? 0) * line.quantity,
    0,
  )
}

function applyCheckoutTotals(state: SimState, checkout: Checkout): void {
  const subtotal = subtotalOf(state, checkout)
  const shipping = checkout.shipping_line ? (parseMoney(checkout.shipping_line.price, state.decimals) ?? 0) : 0
  const discount = discountOf(state, checkout, subtotal)
  checkout.subtotal_price = state.money(subtotal)
  checkout.total_price = state.money(subtotal - discount + shipping)
}

export function discountOf(state: SimState, checkout: Checkout, subtotalMinor?: number): number {
  const discount = checkout.applied_discount
  if (!discount) return 0
  const subtotal = subtotalMinor ?? subtotalOf(state, checkout)
  if (discount.value_type === 'percentage') return subtotal - applyPercentage(subtotal, Number(discount.value))
  return Math.min(subtotal, parseMoney(discount.value, state.decimals) ?? 0)
}

function readAddressBody(value: unknown, field: string): PostalAddress {
  if (!value || typeof value !== 'object') throw fieldError(field, 'Not a valid object.')
  const postal = readPostal(value as Body)
  const missing: Record<string, string[]> = {}
  for (const key of ['address1', 'city', 'country_code', 'first_name', 'last_name', 'zip'] as const) {
    if (!postal[key]) missing[key] = ['Missing data for required field.']
  }
  if (Object.keys(missing).length > 0) throw unprocessable({ [field]: missing })
  return postal
}

function readHandle(value: unknown): string | null {
  if (typeof value === 'string' && value !== '') return value
  if (value && typeof value === 'object') {
    const record = value as Body
    for (const key of ['handle', 'code'])
      if (typeof record[key] === 'string' && record[key] !== '') return record[key] as string
  }
  return null
}

function readAppliedDiscount(value: unknown): string | null | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.length === 0) return null
  const first = value[0] as Body
  return typeof first?.discount_code === 'string'
    ? first.discount_code
    : typeof first?.code === 'string'
      ? first.code
      : null
}

export function emptyPostal(): PostalAddress {
  return {
    address1: null,
    address2: null,
    city: null,
    company: null,
    country_code: null,
    first_name: null,
    last_name: null,
    phone: null,
    province: null,
    zip: null,
  }
}
