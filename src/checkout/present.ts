import type { Config } from '../config.ts'
import { hostedPagesThroughBridge } from '../demo-mode.ts'
import type { UpstreamAddress, UpstreamCheckout, UpstreamShippingRate } from '../recharge/schemas/checkouts.ts'
import type { CheckoutResponse, ShippingRatesResponse } from './schemas.ts'

/**
 * Upstream checkout → the storefront's view. Field by field (an allow-list in code as well as in the response
 * schema): totals exactly as Recharge computed them, lines as Recharge will charge them.
 */

/**
 * Recharge's hosted checkout for this token (merchants who hand payment off to Recharge). Against a simulator (demo
 * storefront on) the same path under the bridge's PUBLIC_URL, which forwards it to the simulator's stand-in.
 */
export function hostedCheckoutUrl(
  token: string,
  config: Pick<Config, 'demoMode' | 'DEMO_STOREFRONT' | 'NODE_ENV' | 'RECHARGE_API_URL' | 'PUBLIC_URL'>,
): string {
  const base = hostedPagesThroughBridge(config) ?? 'https://checkout.rechargeapps.com'
  return `${base}/r/checkout/${encodeURIComponent(token)}`
}

function presentAddress(address: UpstreamAddress | null): CheckoutResponse['shipping_address'] {
  if (!address) return null
  return {
    first_name: address.first_name,
    last_name: address.last_name,
    company: address.company,
    address1: address.address1,
    address2: address.address2,
    city: address.city,
    province: address.province,
    zip: address.zip,
    country_code:
      address.country_code ?? (address.country && /^[A-Z]{2}$/i.test(address.country) ? address.country : null),
    phone: address.phone,
  }
}

export function presentCheckout(checkout: UpstreamCheckout, checkoutUrl: string): CheckoutResponse {
  return {
    token: checkout.token,
    status: checkout.completedAt || checkout.chargeId ? 'processed' : 'open',
    checkout_url: checkoutUrl,
    email: checkout.email,
    lines: checkout.lineItems.map((line) => ({
      external_product_id: line.externalProductId,
      external_variant_id: line.externalVariantId,
      title: line.title,
      variant_title: line.variantTitle,
      quantity: line.quantity,
      purchase_type: line.purchaseType,
      unit_price: line.unitPrice,
      line_price: line.linePrice,
      interval: line.interval
        ? {
            unit: line.interval.unit,
            charge_every: line.interval.chargeEvery,
            deliver_every: line.interval.deliverEvery,
          }
        : null,
    })),
    totals: {
      currency: checkout.currency,
      subtotal: checkout.subtotalPrice,
      discounts: checkout.totalDiscounts,
      shipping: checkout.shippingPrice,
      tax: checkout.totalTax,
      total: checkout.totalPrice,
    },
    requires_shipping: checkout.requiresShipping,
    shipping_address: presentAddress(checkout.shippingAddress),
    billing_address: presentAddress(checkout.billingAddress),
    shipping_rate: checkout.shippingRate,
    discount_codes: checkout.discountCodes,
    completed_at: checkout.completedAt,
    created_at: checkout.createdAt,
  }
}

export function presentShippingRates(rates: readonly UpstreamShippingRate[]): ShippingRatesResponse {
  return {
    shipping_rates: rates.flatMap((rate) => {
      // A rate the storefront cannot select (no handle or code) is of no use to it.
      const handle = rate.handle ?? rate.code
      if (!handle) return []
      return [{ handle, title: rate.title ?? rate.name, price: rate.price, description: rate.description }]
    }),
  }
}
