import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'

let sim: TestSimulator

// A long processing window so the concurrent-charge race below always overlaps, however loaded the machine is.
beforeAll(async () => {
  sim = await startTestSimulator({ checkoutChargeMs: 400, addressWriteWindowMs: 0 })
})
afterAll(async () => {
  await sim.close()
})
beforeEach(async () => {
  await sim.reset()
})

async function api(method: string, path: string, body?: unknown, target: TestSimulator = sim) {
  const response = await fetch(`${target.url}${path}`, {
    method,
    headers: { ...target.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  return { status: response.status, body: text ? JSON.parse(text) : null }
}

const SHIPPING = {
  first_name: 'Grace',
  last_name: 'Hopper',
  address1: '1 Navy Way',
  city: 'Arlington',
  province: 'Virginia',
  country_code: 'US',
  zip: '22202',
}

async function readyCheckout(email = 'grace@example.com', target: TestSimulator = sim) {
  const created = await api(
    'POST',
    '/checkouts',
    {
      checkout: {
        line_items: [
          {
            external_product_id: { ecommerce: '7100000001' },
            external_variant_id: { ecommerce: '7200000011' },
            quantity: 2,
            charge_interval_frequency: 2,
            order_interval_frequency: 2,
            order_interval_unit: 'week',
          },
          {
            external_product_id: { ecommerce: '7100000004' },
            external_variant_id: { ecommerce: '7200000041' },
            quantity: 1,
          },
        ],
      },
    },
    target,
  )
  expect(created.status).toBe(201)
  const token = created.body.checkout.token as string
  await api('PUT', `/checkouts/${token}`, { checkout: { email, shipping_address: SHIPPING } }, target)
  const rates = await api('GET', `/checkouts/${token}/shipping_rates`, undefined, target)
  await api(
    'PUT',
    `/checkouts/${token}`,
    { checkout: { shipping_line: { handle: rates.body.shipping_rates[0].handle } } },
    target,
  )
  return token
}

describe('checkouts', () => {
  it('prices lines from the catalog (plan discount for subscription lines) and totals with shipping and discount', async () => {
    const token = await readyCheckout()
    const checkout = (await api('GET', `/checkouts/${token}`)).body.checkout
    expect(
      checkout.line_items.map((line: { price: string; purchase_item_type: string }) => [
        line.purchase_item_type,
        line.price,
      ]),
    ).toEqual([
      ['subscription', '16.20'],
      ['onetime', '32.00'],
    ])
    expect(checkout).toMatchObject({ subtotal_price: '64.40', total_price: '69.40', currency: 'USD' })

    const discounted = await api('PUT', `/checkouts/${token}`, { checkout: { discount_code: 'WELCOME10' } })
    expect(discounted.body.checkout).toMatchObject({ discount_code: 'WELCOME10', total_price: '62.96' })
    const invalid = await api('PUT', `/checkouts/${token}`, { checkout: { discount_code: 'NOPE' } })
    expect(invalid.status).toBe(422)
  })

  it('needs a shipping address for rates, and reports bad lines field by field', async () => {
    const created = await api('POST', '/checkouts', {
      line_items: [
        {
          external_product_id: { ecommerce: '7100000004' },
          external_variant_id: { ecommerce: '7200000041' },
          quantity: 1,
        },
      ],
    })
    const rates = await api('GET', `/checkouts/${created.body.checkout.token}/shipping_rates`)
    expect(rates.status).toBe(422)
    expect(rates.body.errors).toHaveProperty('shipping_address')

    const bad = await api('POST', '/checkouts', {
      line_items: [
        {
          external_product_id: { ecommerce: '7100000004' },
          external_variant_id: { ecommerce: 'missing' },
          quantity: 1,
        },
      ],
    })
    expect(bad.status).toBe(422)
    expect(bad.body).toEqual({ errors: { line_items: { '0': { external_variant_id: [expect.any(String)] } } } })
  })

  it('magic tokens: declined and SCA-required answer 422 with the processor message and leave the checkout chargeable', async () => {
    const token = await readyCheckout()
    const declined = await api('POST', `/checkouts/${token}/charge`, {
      checkout_charge: { payment_processor: 'stripe', payment_token: 'tok_chargeDeclined' },
    })
    expect(declined).toEqual({
      status: 422,
      body: { errors: 'Your card was declined. decline_code = generic_decline' },
    })
    const sca = await api('POST', `/checkouts/${token}/charge`, {
      payment_processor: 'stripe',
      payment_token: 'tok_authenticationRequired',
    })
    expect(sca).toEqual({
      status: 422,
      body: { errors: 'Your card was declined. This transaction requires authentication.' },
    })
    const funds = await api('POST', `/checkouts/${token}/charge`, {
      payment_processor: 'stripe',
      payment_token: 'tok_chargeDeclinedInsufficientFunds',
    })
    expect(funds.body).toEqual({ errors: 'Your card has insufficient funds.' })
    expect((await api('GET', `/checkouts/${token}`)).body.checkout.completed_at).toBeNull()
    expect(
      (await api('POST', `/checkouts/${token}/charge`, { payment_processor: 'stripe', payment_token: 'tok_visa' }))
        .status,
    ).toBe(200)
  })

  it('is single-use: a concurrent charge gets 409, a replay 422, and exactly one charge is created', async () => {
    const token = await readyCheckout()
    const body = { checkout_charge: { payment_processor: 'stripe', payment_token: 'tok_visa' } }
    const [first, second] = await Promise.all([
      api('POST', `/checkouts/${token}/charge`, body),
      api('POST', `/checkouts/${token}/charge`, body),
    ])
    const statuses = [first.status, second.status].sort()
    expect(statuses).toEqual([200, 409])
    const conflict = first.status === 409 ? first : second
    expect(conflict.body).toEqual({ error: 'A call to this route is already in progress.' })

    const replay = await api('POST', `/checkouts/${token}/charge`, body)
    expect(replay).toEqual({ status: 422, body: { errors: 'Checkout has already been processed.' } })
    const state = await sim.state()
    expect(
      state.charges.filter((charge) => charge.type === 'checkout' && charge.customer.email === 'grace@example.com'),
    ).toHaveLength(1)
  })

  it('processing creates the customer, address, subscription, charge, order and the next queued charge', async () => {
    const token = await readyCheckout()
    const charged = await api('POST', `/checkouts/${token}/charge`, {
      payment_processor: 'stripe',
      payment_token: 'tok_visa',
    })
    expect(charged.status).toBe(200)
    const result = charged.body.checkout_charge
    expect(result).toMatchObject({
      status: 'success',
      email: 'grace@example.com',
      customer_hash: expect.any(String),
      charge_id: expect.any(Number),
    })

    const customer = (await api('GET', '/customers?email=grace@example.com')).body.customers[0]
    expect(customer).toMatchObject({
      id: result.customer_id,
      hash: result.customer_hash,
      subscriptions_active_count: 1,
      has_valid_payment_method: true,
    })
    const addresses = (await api('GET', `/addresses?customer_id=${customer.id}`)).body.addresses
    expect(addresses).toEqual([expect.objectContaining({ address1: '1 Navy Way', zip: '22202' })])
    const subscriptions = (await api('GET', `/subscriptions?customer_id=${customer.id}`)).body.subscriptions
    expect(subscriptions).toEqual([
      expect.objectContaining({
        status: 'active',
        price: '16.20',
        quantity: 2,
        order_interval_unit: 'week',
        has_queued_charges: true,
      }),
    ])
    const charge = (await api('GET', `/charges/${result.charge_id}`)).body.charge
    expect(charge).toMatchObject({ status: 'success', type: 'checkout', total_price: '69.40' })
    expect(charge.line_items).toHaveLength(2)
    const orders = (await api('GET', `/orders?charge_id=${result.charge_id}`)).body.orders
    expect(orders).toEqual([expect.objectContaining({ status: 'success', type: 'checkout', total_price: '69.40' })])
    const queued = (await api('GET', `/charges?customer_id=${customer.id}&status=queued`)).body.charges
    expect(queued.map((next: { scheduled_at: string }) => next.scheduled_at)).toEqual([
      subscriptions[0].next_charge_scheduled_at,
    ])
  })

  it('reuses an existing customer by email', async () => {
    const before = (await api('GET', '/customers?email=alice@example.com')).body.customers[0]
    const token = await readyCheckout('ALICE@example.com')
    const charged = await api('POST', `/checkouts/${token}/charge`, {
      payment_processor: 'stripe',
      payment_token: 'tok_visa',
    })
    expect(charged.body.checkout_charge.customer_id).toBe(before.id)
    const after = (await api('GET', `/customers/${before.id}`)).body.customer
    expect(after.subscriptions_active_count).toBe(before.subscriptions_active_count + 1)
  })
})

describe('zero-decimal currency', () => {
  it('a JPY simulator prices and totals in whole yen', async () => {
    const yen = await startTestSimulator({ currency: 'JPY', checkoutChargeMs: 0 })
    try {
      expect((await api('GET', '/store', undefined, yen)).body.store.currency).toBe('JPY')
      const product = (await api('GET', '/products/7100000001', undefined, yen)).body.product
      expect(product.variants[0].prices).toEqual({ unit_price: '2700', compare_at_price: '3000' })
      const token = await readyCheckout('yen@example.com', yen)
      const checkout = (await api('GET', `/checkouts/${token}`, undefined, yen)).body.checkout
      expect(checkout).toMatchObject({ currency: 'JPY', subtotal_price: '9660', total_price: '10410' })
    } finally {
      await yen.close()
    }
  })
})
