import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type SimSnapshot, startTestSimulator, type TestSimulator } from '../support/simulator.ts'
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts'

/** Payment methods, the seeded shopper in dunning, customer notifications and the profile, over HTTP. */
let sim: TestSimulator
let hooks: WebhookReceiver

beforeAll(async () => {
  sim = await startTestSimulator({ addressWriteWindowMs: 0, webhookAutoDeliver: false })
  hooks = await startWebhookReceiver()
})
afterAll(async () => {
  await sim.close()
  await hooks.close()
})
beforeEach(async () => {
  await sim.reset()
})

type Customer = SimSnapshot['customers'][number]

async function customer(email: string): Promise<{ state: SimSnapshot; customer: Customer }> {
  const state = await sim.state()
  return { state, customer: state.customers.find((candidate) => candidate.email === email) as Customer }
}

async function notifications(customerId?: number) {
  const query = customerId === undefined ? '' : `?customer_id=${customerId}`
  const response = await fetch(`${sim.url}/__sim/notifications${query}`)
  return ((await response.json()) as { notifications: Record<string, unknown>[] }).notifications
}

describe('payment methods', () => {
  it("lists only the given customer's methods, each with its processor fields", async () => {
    const { customer: erin } = await customer('erin@example.com')
    const { status, body } = await sim.api('GET', `/payment_methods?customer_id=${erin.id}`)
    expect(status).toBe(200)
    expect(body.payment_methods).toHaveLength(2)
    for (const method of body.payment_methods) {
      expect(method.customer_id).toBe(erin.id)
      expect(method.processor_name).toBe('stripe')
      expect(method.processor_customer_token).toMatch(/^cus_sim/)
      expect(method.processor_payment_method_token).toMatch(/^pm_sim/)
      expect(method.payment_details).toEqual(expect.objectContaining({ last4: expect.stringMatching(/^\d{4}$/) }))
    }
    expect(body.payment_methods.filter((method: { default: boolean }) => method.default)).toHaveLength(1)
  })

  it('answers one method by id and 404 with the recorded body for an unknown id', async () => {
    const { state, customer: alice } = await customer('alice@example.com')
    const method = state.payment_methods.find((candidate) => candidate.customer_id === alice.id)
    const found = await sim.api('GET', `/payment_methods/${method?.id}`)
    expect(found.body.payment_method).toEqual(method)
    expect(await sim.api('GET', '/payment_methods/999999999')).toEqual({ status: 404, body: { errors: 'Not Found' } })
  })

  it('updates the billing address and the default flag, and refuses a null address1', async () => {
    const { state, customer: erin } = await customer('erin@example.com')
    const spare = state.payment_methods.find((method) => method.customer_id === erin.id && !method.default)
    const updated = await sim.api('PUT', `/payment_methods/${spare?.id}`, {
      default: true,
      billing_address: { address1: '4 Lake Shore Drive', zip: '60602' },
    })
    expect(updated.status).toBe(200)
    expect(updated.body.payment_method).toEqual(
      expect.objectContaining({
        default: true,
        billing_address: expect.objectContaining({ address1: '4 Lake Shore Drive', zip: '60602' }),
      }),
    )
    const after = (await sim.state()).payment_methods.find((method) => method.id === spare?.id)
    expect(after?.billing_address.address1).toBe('4 Lake Shore Drive')

    const refused = await sim.api('PUT', `/payment_methods/${spare?.id}`, { billing_address: { address1: null } })
    expect(refused).toEqual({
      status: 422,
      body: { errors: { billing_address: { address1: ['Field may not be null.'] } } },
    })
  })

  it('refuses to delete a method that addresses use (recorded 422) and deletes an unused one', async () => {
    const { state, customer: erin } = await customer('erin@example.com')
    const used = state.payment_methods.find((method) => method.customer_id === erin.id && method.default)
    const spare = state.payment_methods.find((method) => method.customer_id === erin.id && !method.default)
    expect(await sim.api('DELETE', `/payment_methods/${used?.id}`)).toEqual({
      status: 422,
      body: { errors: { address: ['Can not delete payment method associated with addresses'] } },
    })
    expect((await sim.api('DELETE', `/payment_methods/${spare?.id}`)).status).toBe(204)
    const ids = (await sim.state()).payment_methods.map((method) => method.id)
    expect(ids).toContain(used?.id)
    expect(ids).not.toContain(spare?.id)
  })
})

describe('the seeded shopper in dunning', () => {
  it('has a failed charge with its error type and a retry date, an invalid card and the dunning flags', async () => {
    const { state, customer: frank } = await customer('frank@example.com')
    expect(frank).toEqual(
      expect.objectContaining({ has_payment_method_in_dunning: true, has_valid_payment_method: false }),
    )
    const failed = await sim.api('GET', `/charges?customer_id=${frank.id}&status=error`)
    expect(failed.body.charges).toHaveLength(1)
    const charge = failed.body.charges[0]
    expect(charge).toEqual(
      expect.objectContaining({ error_type: 'CUSTOMER_NEEDS_TO_UPDATE_CARD', error: expect.any(String) }),
    )
    expect(charge.scheduled_at < state.now.slice(0, 10)).toBe(true)
    expect(charge.retry_date.slice(0, 10) > state.now.slice(0, 10)).toBe(true)

    const method = state.payment_methods.find((candidate) => candidate.customer_id === frank.id)
    expect(method).toEqual(expect.objectContaining({ status: 'invalid', status_reason: expect.any(String) }))
    const queued = state.charges.filter((other) => other.customer.id === frank.id && other.status === 'queued')
    expect(queued).toHaveLength(1)
    expect(state.orders.filter((order) => order.customer.id === frank.id)).toHaveLength(1)
  })

  it('is the same shopper for the same SIM_SEED and a different one for another seed', async () => {
    const twin = await startTestSimulator({ seed: 'account-seed' })
    const other = await startTestSimulator({ seed: 'another-seed' })
    try {
      const pick = async (target: TestSimulator) => {
        const state = await target.state()
        const frank = state.customers.find((candidate) => candidate.email === 'frank@example.com')
        const method = state.payment_methods.find((candidate) => candidate.customer_id === frank?.id)
        return { hash: frank?.hash, token: method?.processor_payment_method_token }
      }
      const again = await startTestSimulator({ seed: 'account-seed' })
      expect(await pick(twin)).toEqual(await pick(again))
      expect((await pick(twin)).hash).not.toBe((await pick(other)).hash)
      await again.close()
    } finally {
      await twin.close()
      await other.close()
    }
  })
})

describe('dunning retries when the clock passes the retry date', () => {
  it('fails again with the expired card (charge/failed, a later retry date), then succeeds with a new card', async () => {
    await hooks.subscribe(sim, ['charge/failed', 'charge/paid', 'customer/updated'])
    const { state, customer: frank } = await customer('frank@example.com')
    const failed = state.charges.find((charge) => charge.customer.id === frank.id && charge.status === 'error')
    const address = state.addresses.find((candidate) => candidate.customer_id === frank.id)
    const firstRetry = failed?.retry_date as string

    await sim.advanceClock(4 * 86_400_000)
    const again = (await sim.api('GET', `/charges/${failed?.id}`)).body.charge
    expect(again).toEqual(expect.objectContaining({ status: 'error', error_type: 'CUSTOMER_NEEDS_TO_UPDATE_CARD' }))
    expect(again.retry_date > firstRetry).toBe(true)
    const franks = (
      batch: { topic: string; body: { charge?: { customer: { id: number } }; customer?: { id: number } } }[],
    ) =>
      batch
        .filter((hook) => (hook.body.charge?.customer.id ?? hook.body.customer?.id) === frank.id)
        .map((hook) => hook.topic)
    expect(franks(await hooks.flush(sim))).toEqual(['charge/failed'])

    const card = await sim.api('POST', '/payment_methods', {
      customer_id: frank.id,
      default: true,
      payment_type: 'CREDIT_CARD',
      processor_customer_token: 'cus_frank_new',
      processor_name: 'stripe',
      processor_payment_method_token: 'pm_frank_new',
    })
    expect(card.status).toBe(201)
    expect(
      (await sim.api('PUT', `/addresses/${address?.id}`, { payment_method_id: card.body.payment_method.id })).status,
    ).toBe(200)
    await sim.advanceClock(4 * 86_400_000)
    const after = await customer('frank@example.com')
    expect(after.state.charges.find((charge) => charge.id === failed?.id)?.status).toBe('success')
    expect(after.state.orders.filter((order) => order.charge.id === failed?.id)).toHaveLength(1)
    expect(after.customer).toEqual(
      expect.objectContaining({ has_payment_method_in_dunning: false, has_valid_payment_method: true }),
    )
    expect(franks(await hooks.flush(sim)).sort()).toEqual(['charge/paid', 'customer/updated'])
  })
})

describe('POST /customers/{id}/notifications', () => {
  it('records the update-payment email the SDK sends and shows it in the control API and the state', async () => {
    const { state, customer: frank } = await customer('frank@example.com')
    const method = state.payment_methods.find((candidate) => candidate.customer_id === frank.id)
    const sent = await sim.api('POST', `/customers/${frank.id}/notifications`, {
      type: 'email',
      template_type: 'shopify_update_payment_information',
      template_vars: { payment_method_id: method?.id },
    })
    expect(sent).toEqual({ status: 200, body: {} })
    const listed = await notifications(frank.id)
    expect(listed).toEqual([
      expect.objectContaining({
        customer_id: frank.id,
        email: 'frank@example.com',
        type: 'email',
        template_type: 'shopify_update_payment_information',
        template_vars: { payment_method_id: method?.id },
      }),
    ])
    expect((await sim.state()).notifications).toEqual(listed)
    await sim.reset()
    expect(await notifications()).toEqual([])
  })

  it('requires the address and a queued charge of this customer for the upcoming-charge email', async () => {
    const { state, customer: alice } = await customer('alice@example.com')
    const missing = await sim.api('POST', `/customers/${alice.id}/notifications`, {
      type: 'email',
      template_type: 'upcoming_charge',
    })
    expect(missing).toEqual({
      status: 422,
      body: {
        errors: {
          template_vars: {
            address_id: ['Missing data for required field.'],
            charge_id: ['Missing data for required field.'],
          },
        },
      },
    })
    const charge = state.charges.find(
      (candidate) => candidate.customer.id === alice.id && candidate.status === 'queued',
    )
    const history = state.charges.find(
      (candidate) => candidate.customer.id === alice.id && candidate.status === 'success',
    )
    const notQueued = await sim.api('POST', `/customers/${alice.id}/notifications`, {
      type: 'email',
      template_type: 'upcoming_charge',
      template_vars: { address_id: history?.address_id, charge_id: history?.id },
    })
    expect(notQueued.body).toEqual({ errors: { template_vars: { charge_id: ['Charge is not queued.'] } } })
    const ok = await sim.api('POST', `/customers/${alice.id}/notifications`, {
      type: 'email',
      template_type: 'upcoming_charge',
      template_vars: { address_id: charge?.address_id, charge_id: charge?.id },
    })
    expect(ok.status).toBe(200)
    expect(await notifications(alice.id)).toHaveLength(1)
  })

  it("refuses another type, an unknown template and another customer's payment method, recording nothing", async () => {
    const { state, customer: frank } = await customer('frank@example.com')
    const bobs = state.payment_methods.find(
      (method) => method.customer_id === state.customers.find((c) => c.email === 'bob@example.com')?.id,
    )
    const path = `/customers/${frank.id}/notifications`
    expect(await sim.api('POST', path, { type: 'sms', template_type: 'get_account_access' })).toEqual({
      status: 422,
      body: { errors: { type: ['Must be one of: email.'] } },
    })
    const unknown = await sim.api('POST', path, { type: 'email', template_type: 'SHOPIFY_UPDATE_PAYMENT_INFO' })
    expect(unknown.status).toBe(422)
    expect(Object.keys(unknown.body.errors)).toEqual(['template_type'])
    const foreign = await sim.api('POST', path, {
      type: 'email',
      template_type: 'shopify_update_payment_information',
      template_vars: { payment_method_id: bobs?.id },
    })
    expect(foreign.body).toEqual({
      errors: { template_vars: { payment_method_id: ['Payment method not found for this customer.'] } },
    })
    expect(await sim.api('POST', '/customers/999999999/notifications', { type: 'email' })).toEqual({
      status: 404,
      body: { errors: 'Not Found' },
    })
    expect(await notifications()).toEqual([])
  })

  it('sends the email but loses the answer under a truncate fault, and sends nothing under a 503 fault', async () => {
    const { customer: frank } = await customer('frank@example.com')
    const body = { type: 'email', template_type: 'shopify_update_payment_information' }
    await sim.setFaults([{ match: { method: 'POST', path: '/customers/' }, status: 503, count: 1 }])
    expect((await sim.api('POST', `/customers/${frank.id}/notifications`, body)).status).toBe(503)
    expect(await notifications()).toEqual([])

    await sim.setFaults([{ match: { method: 'POST', path: '/customers/' }, truncate: true, count: 1 }])
    await expect(sim.api('POST', `/customers/${frank.id}/notifications`, body)).rejects.toThrow()
    expect(await notifications(frank.id)).toHaveLength(1)
  })
})

describe('PUT /customers/{id} (profile)', () => {
  it('changes names and phone, shows them in the state and emits customer/updated', async () => {
    await hooks.subscribe(sim, ['customer/updated'])
    const { customer: bob } = await customer('bob@example.com')
    const { status, body } = await sim.api('PUT', `/customers/${bob.id}`, {
      first_name: 'Robert',
      last_name: 'Baker-Lee',
      phone: '+1 503 555 0100',
    })
    expect(status).toBe(200)
    expect(body.customer).toEqual(
      expect.objectContaining({ first_name: 'Robert', last_name: 'Baker-Lee', phone: '+1 503 555 0100' }),
    )
    expect((await customer('bob@example.com')).customer).toEqual(expect.objectContaining({ first_name: 'Robert' }))
    const delivered = await hooks.flush(sim)
    expect(delivered).toEqual([
      { topic: 'customer/updated', body: { customer: expect.objectContaining({ id: bob.id, first_name: 'Robert' }) } },
    ])
  })

  it('refuses empty names (recorded 422), a non-string phone and an email another customer has', async () => {
    const { customer: bob } = await customer('bob@example.com')
    expect(await sim.api('PUT', `/customers/${bob.id}`, { first_name: '', last_name: '' })).toEqual({
      status: 422,
      body: {
        errors: { first_name: ['Shorter than minimum length 1.'], last_name: ['Shorter than minimum length 1.'] },
      },
    })
    expect((await sim.api('PUT', `/customers/${bob.id}`, { phone: 5550100 })).body).toEqual({
      errors: { phone: ['Not a valid string.'] },
    })
    expect(await sim.api('PUT', `/customers/${bob.id}`, { email: 'alice@example.com' })).toEqual({
      status: 422,
      body: { errors: { email: 'email already exists on store' } },
    })
    expect((await customer('bob@example.com')).customer.first_name).toBe('Bob')
  })
})

describe('hosted portal stand-in pages (deep links)', () => {
  it("answers each account page for the customer's hash, and 404 for an unknown page or hash", async () => {
    const { state, customer: frank } = await customer('frank@example.com')
    const page = async (path: string) => {
      const response = await fetch(`${sim.url}/portal/${path}`)
      return { status: response.status, text: await response.text() }
    }
    const method = state.payment_methods.find((candidate) => candidate.customer_id === frank.id)
    const order = state.orders.find((candidate) => candidate.customer.id === frank.id)
    expect((await page(`${frank.hash}/overview`)).text).toContain('A payment failed.')
    expect((await page(`${frank.hash}/subscriptions`)).text).toContain('Morning Ritual Coffee')
    expect((await page(`${frank.hash}/orders`)).text).toContain(order?.total_price)
    expect((await page(`${frank.hash}/payment_methods`)).text).toContain(`•••• ${method?.payment_details.last4}`)
    expect((await page(`${frank.hash}/addresses`)).text).toContain('12 Pearl Street')
    expect((await page(`${frank.hash}/settings`)).status).toBe(404)
    expect((await page('no-such-hash/overview')).status).toBe(404)
  })
})
