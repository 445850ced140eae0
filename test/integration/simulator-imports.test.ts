import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

/**
 * The simulator routes an import uses: customer, payment method (processor tokens), address and subscription
 * creates with their 2021-11 errors, the customer list's `include`, and fault rules failing each step.
 */
let sim: TestSimulator

const billing = {
  address1: '12 Elm Street',
  city: 'Portland',
  country_code: 'US',
  first_name: 'Ada',
  last_name: 'Stone',
  province: 'Oregon',
  zip: '97201',
}

beforeAll(async () => {
  sim = await startTestSimulator({ seed: 'simulator-imports', bucketSize: 1000, leakRate: 1000 })
})
afterAll(async () => sim.close())

async function newCustomer(email: string) {
  const created = await sim.api('POST', '/customers', {
    email,
    first_name: 'Ada',
    last_name: 'Stone',
    phone: '+15035550100',
    external_customer_id: { ecommerce: `ext-${email}` },
  })
  expect(created.status).toBe(201)
  return created.body.customer as { id: number; phone: string | null }
}

describe('POST /payment_methods', () => {
  it('creates a method from processor tokens and refuses unknown processors, bad tokens and no billing address', async () => {
    const customer = await newCustomer('pm@example.com')
    expect(customer.phone).toBe('+15035550100')
    const base = {
      customer_id: customer.id,
      processor_name: 'stripe',
      processor_customer_token: 'cus_Ada123',
      processor_payment_method_token: 'pm_Ada456',
      billing_address: billing,
    }
    const created = await sim.api('POST', '/payment_methods', base)
    expect(created.status).toBe(201)
    expect(created.body.payment_method).toMatchObject({
      customer_id: customer.id,
      default: true,
      processor_name: 'stripe',
      processor_customer_token: 'cus_Ada123',
      processor_payment_method_token: 'pm_Ada456',
      billing_address: expect.objectContaining({ zip: '97201' }),
    })

    const unknown = await sim.api('POST', '/payment_methods', { ...base, processor_name: 'paypal_direct' })
    expect(unknown.status).toBe(422)
    expect(Object.keys(unknown.body.errors)).toEqual(['processor_name'])
    const badToken = await sim.api('POST', '/payment_methods', { ...base, processor_customer_token: 'abc' })
    expect(badToken.body.errors).toEqual({ processor_customer_token: ['Not found'] })
    const missing = await sim.api('POST', '/payment_methods', { ...base, processor_payment_method_token: undefined })
    expect(missing.body.errors).toEqual({ processor_payment_method_token: ['Not found'] })
    const noZip = await sim.api('POST', '/payment_methods', { ...base, billing_address: { ...billing, zip: '' } })
    expect(noZip.body.errors).toEqual({ billing_address: { zip: ['Missing data for required field.'] } })
    const braintree = await sim.api('POST', '/payment_methods', {
      ...base,
      processor_name: 'braintree',
      processor_customer_token: '81234567',
      processor_payment_method_token: 'x7y8z9',
    })
    expect(braintree.status).toBe(201)
    expect(braintree.body.payment_method.default).toBe(false)
  })
})

describe('GET /customers?include=', () => {
  it('nests the addresses, payment methods and subscriptions of each customer under include', async () => {
    const customer = await newCustomer('include@example.com')
    const method = await sim.api('POST', '/payment_methods', {
      customer_id: customer.id,
      processor_name: 'authorize',
      processor_customer_token: '90001',
      processor_payment_method_token: '90002',
      billing_address: billing,
    })
    const address = await sim.api('POST', '/addresses', {
      customer_id: customer.id,
      payment_method_id: method.body.payment_method.id,
      ...billing,
    })
    expect(address.status).toBe(201)
    const subscription = await sim.api('POST', '/subscriptions', {
      address_id: address.body.address.id,
      external_variant_id: { ecommerce: '7200000011' },
      external_product_id: { ecommerce: '7100000001' },
      quantity: 1,
      charge_interval_frequency: 1,
      order_interval_frequency: 1,
      order_interval_unit: 'month',
      next_charge_scheduled_at: '2099-01-01',
      properties: [{ name: '_import_order', value: 'ord-1' }],
    })
    expect(subscription.status).toBe(201)
    const listed = await sim.api(
      'GET',
      '/customers?external_customer_id=ext-include@example.com&include=addresses,payment_methods,subscriptions',
    )
    const [found] = listed.body.customers
    expect(found.include.addresses.map((a: { id: number }) => a.id)).toEqual([address.body.address.id])
    expect(found.include.payment_methods[0].processor_payment_method_token).toBe('90002')
    expect(found.include.subscriptions[0].properties).toEqual([{ name: '_import_order', value: 'ord-1' }])
    const plain = await sim.api('GET', '/customers?email=include@example.com')
    expect(plain.body.customers[0].include).toBeUndefined()
  })
})

describe('fault rules on the import steps', () => {
  it('fails a create before it is applied (status) or after (truncate), for any of the four steps', async () => {
    for (const path of ['/customers', '/payment_methods', '/addresses', '/subscriptions']) {
      await sim.setFaults([{ match: { method: 'POST', path: `^${path}$` }, status: 503, count: 1 }])
      const refused = await sim.api('POST', path, {})
      expect(refused.status).toBe(503)
    }
    await sim.setFaults([{ match: { method: 'POST', path: '^/customers$' }, truncate: true, count: 1 }])
    const lost = await fetch(`${sim.url}/customers`, {
      method: 'POST',
      headers: { ...sim.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'lost@example.com', first_name: 'L', last_name: 'Ost' }),
    })
      .then((response) => response.text())
      .catch((error: Error) => error)
    expect(lost).toBeInstanceOf(Error)
    const applied = await sim.api('GET', '/customers?email=lost@example.com')
    expect(applied.body.customers).toHaveLength(1)
    await sim.clearFaults()
  })
})
