import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type * as SimRetention from '../../src/simulator/retention-types.ts'
import type * as Sim from '../../src/simulator/types.ts'
import { startTestSimulator, type TestSimulator } from '../support/simulator.ts'
import { startWebhookSink } from '../support/webhook-sink.ts'

let sim: TestSimulator
let sink: Awaited<ReturnType<typeof startWebhookSink>>

beforeAll(async () => {
  sim = await startTestSimulator({ addressWriteWindowMs: 0, webhookAutoDeliver: false, bucketSize: 1000 })
  sink = await startWebhookSink(sim)
})
afterAll(async () => {
  await sim.close()
  await sink.close()
})
beforeEach(async () => {
  await sim.reset()
})

const cents = (money: string) => Math.round(Number(money) * 100)

/** The earliest queued charge and its address. */
async function queued() {
  const state = await sim.state()
  const charge = state.charges
    .filter((candidate) => candidate.status === 'queued')
    .sort((a, b) => a.scheduled_at.localeCompare(b.scheduled_at))[0] as Sim.Charge
  const address = state.addresses.find((candidate) => candidate.id === charge.address_id) as Sim.Address
  const discount = (code: string) =>
    state.discounts.find((candidate) => candidate.code === code) as SimRetention.StoreDiscount
  return { state, charge, address, discount }
}

async function chargeById(id: number): Promise<Sim.Charge> {
  return (await sim.api('GET', `/charges/${id}`)).body.charge
}

describe('GET /discounts', () => {
  it('lists the discount records newest first with their rules, and filters by code, status and type', async () => {
    const listed = await sim.api('GET', '/discounts')
    expect(listed.status).toBe(200)
    expect(listed.body).toMatchObject({ next_cursor: null, previous_cursor: null })
    const ids = listed.body.discounts.map((discount: { id: number }) => discount.id)
    expect(ids).toEqual([...ids].sort((a, b) => b - a))
    const byCode = await sim.api('GET', '/discounts?discount_code=welcome10')
    expect(byCode.body.discounts).toEqual([
      {
        id: expect.any(Number),
        applies_to: { ids: [], purchase_item_type: 'ALL', resource: null },
        channel_settings: {
          api: { can_apply: true },
          checkout_page: { can_apply: true },
          customer_portal: { can_apply: true },
          merchant_portal: { can_apply: true },
        },
        code: 'WELCOME10',
        created_at: expect.any(String),
        ends_at: null,
        external_discount_id: { ecommerce: null },
        external_discount_source: null,
        prerequisite_subtotal_min: null,
        starts_at: null,
        status: 'enabled',
        updated_at: expect.any(String),
        usage_limits: {
          automatic_redemptions_per_customer: null,
          first_time_customer_restriction: false,
          max_subsequent_redemptions: null,
          one_application_per_customer: false,
        },
        value: '10',
        value_type: 'percentage',
      },
    ])
    const disabled = await sim.api('GET', '/discounts?status=disabled')
    expect(disabled.body.discounts.map((discount: { code: string }) => discount.code)).toEqual(['PAUSED20'])
    const fixed = await sim.api('GET', '/discounts?discount_type=fixed_amount')
    expect(fixed.body.discounts.map((discount: { code: string }) => discount.code)).toEqual(['FIVEOFF'])
    expect((await sim.api('GET', '/discounts?status=sometimes')).status).toBe(422)
    expect((await sim.api('GET', '/discounts?discount_type=bogof')).status).toBe(422)
  })

  it('reads one discount by id and answers 404 for an unknown id', async () => {
    const { discount } = await queued()
    const fiveOff = discount('FIVEOFF')
    expect((await sim.api('GET', `/discounts/${fiveOff.id}`)).body.discount).toEqual(fiveOff)
    expect(await sim.api('GET', '/discounts/42')).toEqual({ status: 404, body: { errors: 'Not Found' } })
  })
})

describe('PUT /addresses/{id} discounts', () => {
  it('sets the address discount and re-prices its queued charges exactly, with charge/updated', async () => {
    const { charge, address, discount } = await queued()
    await sink.subscribe(['address/updated', 'charge/updated'])
    const updated = await sim.api('PUT', `/addresses/${address.id}`, { discounts: [{ code: 'welcome10' }] })
    expect(updated.status).toBe(200)
    const welcome = discount('WELCOME10')
    expect(updated.body.address.discounts).toEqual([{ id: welcome.id }])

    const after = await chargeById(charge.id)
    const lines = cents(charge.total_line_items_price)
    const off = lines - Math.round((lines * 90) / 100)
    expect(after.discounts).toEqual([{ id: welcome.id, code: 'WELCOME10', value: '10', value_type: 'percentage' }])
    expect(cents(after.total_discounts)).toBe(off)
    expect(cents(after.subtotal_price)).toBe(lines - off)
    expect(cents(after.total_price)).toBe(cents(charge.total_price) - off)

    const hooks = await sink.collect()
    expect(hooks.filter((hook) => hook.topic === 'charge/updated').map((hook) => hook.body.charge.id)).toContain(
      charge.id,
    )
    expect(hooks.find((hook) => hook.topic === 'address/updated')?.body.address.discounts).toEqual([{ id: welcome.id }])
  })

  it('replaces the one discount with another code, and [] removes it and restores the totals', async () => {
    const { charge, address, discount } = await queued()
    await sim.api('PUT', `/addresses/${address.id}`, { discounts: [{ code: 'WELCOME10' }] })
    const replaced = await sim.api('PUT', `/addresses/${address.id}`, { address: { discounts: [{ code: 'FIVEOFF' }] } })
    expect(replaced.body.address.discounts).toEqual([{ id: discount('FIVEOFF').id }])
    const fixed = await chargeById(charge.id)
    expect(fixed.total_discounts).toBe('5.00')
    expect(cents(fixed.total_price)).toBe(cents(charge.total_price) - 500)

    const removed = await sim.api('PUT', `/addresses/${address.id}`, { discounts: [] })
    expect(removed.body.address.discounts).toEqual([])
    const restored = await chargeById(charge.id)
    expect(restored.discounts).toEqual([])
    expect(restored.total_price).toBe(charge.total_price)
    expect(restored.total_discounts).toBe('0.00')
  })

  it('gives a charge queued later the address discount', async () => {
    const { state, address, discount } = await queued()
    await sim.api('PUT', `/addresses/${address.id}`, { discounts: [{ code: 'WELCOME10' }] })
    const subscription = state.subscriptions.find(
      (sub) => sub.address_id === address.id && sub.status === 'active',
    ) as Sim.Subscription
    const date = new Date(Date.parse(state.now) + 90 * 86_400_000).toISOString().slice(0, 10)
    await sim.api('POST', `/subscriptions/${subscription.id}/set_next_charge_date`, { date })
    const charges = (await sim.api('GET', `/charges?address_id=${address.id}&status=queued`)).body.charges
    const fresh = charges.find((charge: Sim.Charge) => charge.scheduled_at === date) as Sim.Charge
    expect(fresh.discounts).toEqual([expect.objectContaining({ id: discount('WELCOME10').id })])
    expect(cents(fresh.total_discounts)).toBeGreaterThan(0)
  })

  it.each([
    ['an unknown code', [{ code: 'NOPE' }], 'Discount code NOPE is invalid.'],
    ['an expired code', [{ code: 'SUMMER5' }], 'Discount code SUMMER5 has expired.'],
    ['a code that has not started', [{ code: 'NEXTMONTH10' }], 'Discount code NEXTMONTH10 is not active yet.'],
    ['a disabled code', [{ code: 'PAUSED20' }], 'Discount code PAUSED20 is not active.'],
    [
      'a code for products not on the charges',
      [{ code: 'DRIPPER25' }],
      'Discount code DRIPPER25 does not apply to these items.',
    ],
    [
      'a code under its minimum subtotal',
      [{ code: 'BIGBOX10' }],
      expect.stringMatching(/^Discount code BIGBOX10 requires a subtotal of at least \d+\.\d\d\.$/),
    ],
    [
      'a first-time code for a returning customer',
      [{ code: 'FIRSTBOX30' }],
      'Discount code FIRSTBOX30 is only for first-time customers.',
    ],
    [
      'a code the API may not apply',
      [{ code: 'STAFFONLY50' }],
      'Discount code STAFFONLY50 cannot be applied through the API.',
    ],
    ['two discounts', [{ code: 'WELCOME10' }, { code: 'FIVEOFF' }], 'Only one discount can be applied to an address.'],
  ])('refuses %s with 422 on discounts and changes nothing', async (_name, discounts, message) => {
    const { charge, address } = await queued()
    const refused = await sim.api('PUT', `/addresses/${address.id}`, { discounts, order_note: 'changed' })
    expect(refused).toEqual({ status: 422, body: { errors: { discounts: [message] } } })
    const after = (await sim.api('GET', `/addresses/${address.id}`)).body.address
    expect(after.discounts).toEqual([])
    expect(after.order_note).toBe(address.order_note)
    expect((await chargeById(charge.id)).total_price).toBe(charge.total_price)
  })

  it('keeps a subscription-only code for two charges (max_subsequent_redemptions 1), then drops it', async () => {
    const { charge, address, discount } = await queued()
    const stay = discount('STAYWITHUS15')
    await sim.api('PUT', `/addresses/${address.id}`, { discounts: [{ code: 'STAYWITHUS15' }] })
    const first = await sim.api('POST', `/charges/${charge.id}/process`)
    expect(first.body.charge.discounts).toEqual([expect.objectContaining({ id: stay.id })])
    const nextCharges = async () =>
      (await sim.api('GET', `/charges?address_id=${address.id}&status=queued&sort_by=scheduled_at-asc`)).body
        .charges as Sim.Charge[]
    const second = (await nextCharges())[0] as Sim.Charge
    expect(second.discounts).toEqual([expect.objectContaining({ id: stay.id })])
    await sim.api('POST', `/charges/${second.id}/process`)
    expect((await sim.api('GET', `/addresses/${address.id}`)).body.address.discounts).toEqual([])
    const third = (await nextCharges())[0] as Sim.Charge
    expect(third.discounts).toEqual([])
    expect(third.total_discounts).toBe('0.00')
    const orders = (await sim.state()).orders.filter((order) => order.address_id === address.id)
    expect(
      orders.filter((order) => (order.discounts as SimRetention.AppliedDiscount[])[0]?.id === stay.id),
    ).toHaveLength(2)
  })
})

describe('POST /charges/{id}/apply_discount and remove_discount', () => {
  it('puts a code on one charge only, re-prices it and emits charge/updated; remove restores it', async () => {
    const { charge, address, discount } = await queued()
    await sink.subscribe(['charge/updated'])
    const applied = await sim.api('POST', `/charges/${charge.id}/apply_discount`, { discount_code: 'FIVEOFF' })
    expect(applied.status).toBe(200)
    expect(applied.body.charge.discounts).toEqual([
      { id: discount('FIVEOFF').id, code: 'FIVEOFF', value: '5.00', value_type: 'fixed_amount' },
    ])
    expect(cents(applied.body.charge.total_price)).toBe(cents(charge.total_price) - 500)
    expect((await sim.api('GET', `/addresses/${address.id}`)).body.address.discounts).toEqual([])
    expect((await sink.collect()).map((hook) => hook.body.charge.id)).toEqual([charge.id])

    const removed = await sim.api('POST', `/charges/${charge.id}/remove_discount`)
    expect(removed.status).toBe(200)
    expect(removed.body.charge).toMatchObject({ discounts: [], total_price: charge.total_price })
    const again = await sim.api('POST', `/charges/${charge.id}/remove_discount`)
    expect(again.status).toBe(200)
  })

  it('applies by discount_id as well, to the covered items only', async () => {
    const { state, charge, address, discount } = await queued()
    const dripper = state.products.find((product) => product.external_product_id === '7100000004') as Sim.Product
    const variant = dripper.variants[0] as Sim.ProductVariant
    await sim.api('POST', '/onetimes', {
      address_id: address.id,
      external_variant_id: { ecommerce: variant.external_variant_id },
      quantity: 1,
      next_charge_scheduled_at: charge.scheduled_at,
    })
    const applied = await sim.api('POST', `/charges/${charge.id}/apply_discount`, {
      discount_id: discount('DRIPPER25').id,
    })
    expect(applied.status).toBe(200)
    const price = cents(variant.prices.unit_price)
    expect(cents(applied.body.charge.total_discounts)).toBe(price - Math.round((price * 75) / 100))
  })

  it('refuses a second discount on the charge, and any when the address has one', async () => {
    const { charge, address } = await queued()
    await sim.api('POST', `/charges/${charge.id}/apply_discount`, { discount_code: 'FIVEOFF' })
    expect(await sim.api('POST', `/charges/${charge.id}/apply_discount`, { discount_code: 'WELCOME10' })).toEqual({
      status: 422,
      body: { errors: { discount_code: ['This charge already has a discount applied.'] } },
    })
    await sim.api('POST', `/charges/${charge.id}/remove_discount`)
    await sim.api('PUT', `/addresses/${address.id}`, { discounts: [{ code: 'WELCOME10' }] })
    await sim.api('POST', `/charges/${charge.id}/remove_discount`)
    expect(await sim.api('POST', `/charges/${charge.id}/apply_discount`, { discount_code: 'FIVEOFF' })).toEqual({
      status: 422,
      body: { errors: { discount_code: ['The address of this charge already has a discount applied.'] } },
    })
  })

  it('answers 422 for an unknown code or id, no reference, an expired code and a charge that is not queued', async () => {
    const { charge } = await queued()
    expect((await sim.api('POST', `/charges/${charge.id}/apply_discount`, { discount_code: 'NOPE' })).body).toEqual({
      errors: { discount_code: ['Discount code NOPE is invalid.'] },
    })
    expect((await sim.api('POST', `/charges/${charge.id}/apply_discount`, { discount_id: 7 })).body).toEqual({
      errors: { discount_id: ['Discount not found.'] },
    })
    expect((await sim.api('POST', `/charges/${charge.id}/apply_discount`, {})).status).toBe(422)
    expect((await sim.api('POST', `/charges/${charge.id}/apply_discount`, { discount_code: 'SUMMER5' })).body).toEqual({
      errors: { discount_code: ['Discount code SUMMER5 has expired.'] },
    })
    await sim.api('POST', `/charges/${charge.id}/skip`)
    expect(await sim.api('POST', `/charges/${charge.id}/apply_discount`, { discount_code: 'FIVEOFF' })).toEqual({
      status: 422,
      body: { errors: { charge: ['A discount can only be applied to a queued charge.'] } },
    })
    expect((await sim.api('POST', '/charges/1/apply_discount', { discount_code: 'FIVEOFF' })).status).toBe(404)
  })

  it('refuses a once-per-customer code the customer has already used', async () => {
    const { charge, address } = await queued()
    await sim.api('POST', `/charges/${charge.id}/apply_discount`, { discount_code: 'ONCEONLY10' })
    await sim.api('POST', `/charges/${charge.id}/process`)
    const next = (await sim.api('GET', `/charges?address_id=${address.id}&status=queued&sort_by=scheduled_at-asc`)).body
      .charges[0] as Sim.Charge
    expect((await sim.api('POST', `/charges/${next.id}/apply_discount`, { discount_code: 'ONCEONLY10' })).body).toEqual(
      { errors: { discount_code: ['Discount code ONCEONLY10 has already been used by this customer.'] } },
    )
  })
})

describe('discounts in a zero-decimal currency', () => {
  it('takes whole yen off: a percentage rounded to the yen and a fixed amount in yen', async () => {
    const yen = await startTestSimulator({ addressWriteWindowMs: 0, currency: 'JPY', bucketSize: 1000 })
    try {
      const state = await yen.state()
      const charge = state.charges
        .filter((candidate) => candidate.status === 'queued')
        .sort((a, b) => a.scheduled_at.localeCompare(b.scheduled_at))[0] as Sim.Charge
      const lines = Number(charge.total_line_items_price)
      await yen.api('PUT', `/addresses/${charge.address_id}`, { discounts: [{ code: 'WELCOME10' }] })
      const percent = (await yen.api('GET', `/charges/${charge.id}`)).body.charge
      expect(percent.total_discounts).toBe(String(lines - Math.round((lines * 90) / 100)))
      expect(Number(percent.total_price)).toBe(Number(charge.total_price) - Number(percent.total_discounts))

      await yen.api('PUT', `/addresses/${charge.address_id}`, { discounts: [{ code: 'FIVEOFF' }] })
      const fixed = (await yen.api('GET', `/charges/${charge.id}`)).body.charge
      const fiveOff = state.discounts.find((discount) => discount.code === 'FIVEOFF') as SimRetention.StoreDiscount
      expect(fiveOff.value).toMatch(/^\d+$/)
      expect(fixed.total_discounts).toBe(fiveOff.value)
    } finally {
      await yen.close()
    }
  })
})
