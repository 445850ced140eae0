import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { hostedCheckoutUrl } from '../../src/checkout/present.ts'
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

function api(method: string, path: string, body?: unknown, target: TestSimulator = sim) {
  return target.api(method, path, body)
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

const COFFEE_LINE = {
  external_product_id: { ecommerce: '7100000001' },
  external_variant_id: { ecommerce: '7200000011' },
  quantity: 2,
  charge_interval_frequency: 2,
  order_interval_frequency: 2,
  order_interval_unit: 'week',
}

describe('line item prices sent by the client', () => {
  it('charges the unit_price sent (no plan discount on top), keeps it on the line and totals from it', async () => {
    const created = await api('POST', '/checkouts', {
      checkout: { line_items: [{ ...COFFEE_LINE, unit_price: '9.99' }] },
    })
    expect(created.status).toBe(201)
    const checkout = created.body.checkout
    expect(checkout.line_items[0]).toMatchObject({
      unit_price: '9.99',
      price: '9.99',
      original_price: '18.00',
      total_price: '19.98',
    })
    expect(checkout).toMatchObject({ subtotal_price: '19.98', total_price: '19.98' })

    const token = checkout.token as string
    await api('PUT', `/checkouts/${token}`, { checkout: { email: 'ada@example.com', shipping_address: SHIPPING } })
    await api('PUT', `/checkouts/${token}`, { checkout: { shipping_line: { handle: 'simulator-standard-5' } } })
    const charged = await api('POST', `/checkouts/${token}/charge`, {
      payment_processor: 'stripe',
      payment_token: 'tok_visa',
    })
    expect(charged.status).toBe(200)
    const charge = (await api('GET', `/charges/${charged.body.checkout_charge.charge_id}`)).body.charge
    expect(charge.line_items[0]).toMatchObject({ unit_price: '9.99', quantity: 2 })
    expect(charge.total_price).toBe('24.98')
    const [subscription] = (await sim.state()).subscriptions.filter((sub) =>
      charged.body.checkout_charge.subscription_ids.includes(sub.id),
    )
    expect(subscription?.price).toBe('9.99')
  })

  it('takes price as the older name of unit_price; unit_price wins when both are sent; without either the catalog prices', async () => {
    const alias = await api('POST', '/checkouts', { line_items: [{ ...COFFEE_LINE, price: '12.5' }] })
    expect(alias.body.checkout.line_items[0]).toMatchObject({ unit_price: '12.50', price: '12.50' })
    const both = await api('POST', '/checkouts', {
      line_items: [{ ...COFFEE_LINE, unit_price: '11.00', price: '1.00' }],
    })
    expect(both.body.checkout.line_items[0].unit_price).toBe('11.00')
    const free = await api('POST', '/checkouts', { line_items: [{ ...COFFEE_LINE, unit_price: 0 }] })
    expect(free.body.checkout).toMatchObject({ subtotal_price: '0.00' })
    const catalog = await api('POST', '/checkouts', { line_items: [COFFEE_LINE] })
    expect(catalog.body.checkout.line_items[0]).toMatchObject({ unit_price: '16.20', price: '16.20' })

    const token = catalog.body.checkout.token as string
    const repriced = await api('PUT', `/checkouts/${token}`, { line_items: [{ ...COFFEE_LINE, unit_price: '15.00' }] })
    expect(repriced.body.checkout).toMatchObject({ subtotal_price: '30.00' })
  })

  it('refuses a unit_price that is not a decimal ≥ 0 in the currency with a field-level 422, and changes nothing', async () => {
    const cases: [unknown, string][] = [
      ['-1.00', 'Must be greater than or equal to 0.'],
      ['abc', 'Not a valid number.'],
      ['', 'Not a valid number.'],
      [{ amount: '1.00' }, 'Not a valid number.'],
      ['1.005', 'Must have at most 2 decimal places.'],
    ]
    for (const [value, message] of cases) {
      const refused = await api('POST', '/checkouts', {
        line_items: [COFFEE_LINE, { ...COFFEE_LINE, unit_price: value }],
      })
      expect({ value, status: refused.status, body: refused.body }).toEqual({
        value,
        status: 422,
        body: { errors: { line_items: { '1': { unit_price: [message] } } } },
      })
    }
    const aliasRefused = await api('POST', '/checkouts', { line_items: [{ ...COFFEE_LINE, price: '-5' }] })
    expect(aliasRefused.body).toEqual({
      errors: { line_items: { '0': { price: ['Must be greater than or equal to 0.'] } } },
    })
    expect((await sim.state()).checkouts).toEqual([])

    const token = (await api('POST', '/checkouts', { line_items: [COFFEE_LINE] })).body.checkout.token as string
    const update = await api('PUT', `/checkouts/${token}`, { line_items: [{ ...COFFEE_LINE, unit_price: '-1' }] })
    expect(update.status).toBe(422)
    expect((await api('GET', `/checkouts/${token}`)).body.checkout.line_items[0].unit_price).toBe('16.20')
  })
})

describe('processed checkout', () => {
  it('the charge answer and the processed checkout name the charge and the order created', async () => {
    const token = await readyCheckout()
    const before = (await api('GET', `/checkouts/${token}`)).body.checkout
    expect(before).toMatchObject({ charge_id: null, order_id: null, completed_at: null })

    const charged = await api('POST', `/checkouts/${token}/charge`, {
      payment_processor: 'stripe',
      payment_token: 'tok_visa',
    })
    const result = charged.body.checkout_charge
    expect(result).toMatchObject({ charge_id: expect.any(Number), order_id: expect.any(Number) })
    const orders = (await api('GET', `/orders?charge_id=${result.charge_id}`)).body.orders
    expect(orders.map((order: { id: number }) => order.id)).toEqual([result.order_id])
    expect((await api('GET', `/orders/${result.order_id}`)).body.order.charge.id).toBe(result.charge_id)

    const after = (await api('GET', `/checkouts/${token}`)).body.checkout
    expect(after).toMatchObject({
      charge_id: result.charge_id,
      order_id: result.order_id,
      completed_at: expect.any(String),
    })
  })
})

describe('hosted checkout stand-in (/r/checkout/{token})', () => {
  async function page(path: string) {
    const response = await fetch(`${sim.url}${path}`) // a shopper's browser: no API token
    return { status: response.status, headers: response.headers, html: await response.text() }
  }

  it('shows the lines, totals and status of the checkout the bridge links to in demo mode, without an API token', async () => {
    const token = await readyCheckout('<b>grace</b>@example.com')
    // The URL the bridge hands out as checkout_url in demo mode: its own, forwarding the path to the simulator.
    const demo = { demoMode: true, DEMO_STOREFRONT: false, NODE_ENV: 'test' as const, RECHARGE_API_URL: sim.url }
    const url = hostedCheckoutUrl(token, { ...demo, PUBLIC_URL: 'http://localhost:3000/' })
    expect(url).toBe(`http://localhost:3000/r/checkout/${token}`)
    const open = await page(new URL(url).pathname)
    expect(open.status).toBe(200)
    expect(open.headers.get('content-type')).toContain('text/html')
    expect(open.headers.get('cache-control')).toBe('no-store')
    expect(open.headers.get('referrer-policy')).toBe('no-referrer')
    expect(open.html).toContain('Recharge checkout (simulator)')
    expect(open.html).toContain('Awaiting payment')
    expect(open.html).toContain('Morning Ritual Coffee')
    expect(open.html).toContain('every 2 weeks')
    expect(open.html).toContain('$16.20') // subscription unit price
    expect(open.html).toContain('$5.00') // standard shipping
    expect(open.html).toContain('$69.40') // total
    expect(open.html).toContain('&#60;b&#62;grace&#60;/b&#62;@example.com')
    expect(open.html).not.toContain('<b>grace</b>')

    const charged = await api('POST', `/checkouts/${token}/charge`, {
      payment_processor: 'stripe',
      payment_token: 'tok_visa',
    })
    const paid = await page(`/r/checkout/${token}?myshopify_domain=demo.myshopify.com`)
    expect(paid.status).toBe(200)
    expect(paid.html).toContain('Order confirmed')
    expect(paid.html).toContain(`Order #${charged.body.checkout_charge.order_id}`)

    // Page views are a browser's, not API calls: not in the ledger, not counted against the bucket.
    expect(await sim.ledger({ path: '/r/checkout/*' })).toEqual([])
  })

  it('answers an unknown token with a 404 HTML page', async () => {
    const missing = await page('/r/checkout/0123456789abcdef')
    expect(missing.status).toBe(404)
    expect(missing.headers.get('content-type')).toContain('text/html')
    expect(missing.html).toContain('Checkout not found')
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
