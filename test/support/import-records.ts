/**
 * Import records for tests and benchmarks (docs/import.md): one shopper each, with a Stripe card and the
 * simulator's catalog (Morning Ritual Coffee 250 g, monthly plan at 15 % off: 15.30).
 */
export interface RecordOptions {
  orderId: string
  email: string
  externalCustomerId?: string
  lines?: object[]
  shipping?: Partial<Record<string, string>>
  paymentMethod?: Partial<Record<string, unknown>>
}

export function importRecordFor(options: RecordOptions) {
  const address = {
    first_name: 'Ada',
    last_name: 'Stone',
    address1: '12 Elm Street',
    city: 'Portland',
    province: 'Oregon',
    zip: '97201',
    country_code: 'US',
    ...options.shipping,
  }
  const token = options.email.replace(/[^A-Za-z0-9]/g, '')
  return {
    external_order_id: options.orderId,
    order_date: '2026-01-15',
    customer: {
      email: options.email,
      first_name: 'Ada',
      last_name: 'Stone',
      ...(options.externalCustomerId ? { external_customer_id: options.externalCustomerId } : {}),
    },
    payment_method: {
      processor_name: 'stripe',
      processor_customer_token: `cus_${token}`,
      processor_payment_method_token: `pm_${token}`,
      billing_address: address,
      ...options.paymentMethod,
    },
    shipping_address: address,
    lines: options.lines ?? [
      {
        external_product_id: '7100000001',
        external_variant_id: '7200000011',
        quantity: 2,
        frequency: { unit: 'month', every: 1 },
      },
    ],
  }
}

export function toNdjson(records: unknown[]): string {
  return `${records.map((record) => (typeof record === 'string' ? record : JSON.stringify(record))).join('\n')}\n`
}
