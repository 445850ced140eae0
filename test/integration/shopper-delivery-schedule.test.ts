import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { deleteKeys } from '../support/redis.ts'
import { dateInDays, type ShopperHarness, startShopperHarness } from '../support/shopper-harness.ts'
import { until } from '../support/until.ts'

/**
 * The delivery schedule and skipping any upcoming delivery, over HTTP against the simulator and a real Redis: by
 * charge (skip/unskip with subscription_ids) and by date for a delivery with no charge yet; policy switches skip and
 * unskip; ownership; Idempotency-Key; Recharge's refusals as 422 codes; lost answers; and webhooks making changes
 * made in Recharge directly visible on the next read.
 */
interface Delivery {
  date: string
  address_id: string
  status: string
  charge_id: string | null
  skipped_charge_id: string | null
  skippable: boolean
  unskippable: boolean
  lines: { kind: string; id: string; skipped: boolean; skippable: boolean; quantity: number; price: string }[]
}

let h: ShopperHarness
let app: FastifyInstance
let alice: string
let aliceId: string
let bobId: string

beforeAll(async () => {
  h = await startShopperHarness('schedule', { webhookAutoDeliver: false })
  app = await h.bridge()
  alice = await h.mint(app, 'alice@example.com')
  aliceId = await h.customerId('alice@example.com')
  bobId = await h.customerId('bob@example.com')
})
beforeEach(async () => {
  await h.reset()
})
afterAll(async () => {
  await h?.close()
})

async function schedule(token = alice, instance = app, weeks?: number): Promise<Delivery[]> {
  const response = await h.call(instance, token, 'GET', `/v1/delivery-schedule${weeks ? `?weeks=${weeks}` : ''}`)
  expect(response.statusCode).toBe(200)
  return response.json().deliveries
}

/** Alice's first address: its next delivery (a queued charge) and the one after it (no charge yet). */
async function aliceDeliveries() {
  const deliveries = await schedule()
  const next = deliveries[0] as Delivery
  const afterNext = deliveries.find(
    (delivery) => delivery.address_id === next.address_id && delivery.date > next.date,
  ) as Delivery
  return { deliveries, next, afterNext }
}

describe('the delivery schedule', () => {
  it('lists upcoming deliveries by date with their lines, charges and whether they can be skipped', async () => {
    const state = await h.sim.state()
    const { deliveries, next, afterNext } = await aliceDeliveries()
    const queued = state.charges.find(
      (row) => row.status === 'queued' && String(row.address_id) === next.address_id && row.scheduled_at === next.date,
    )
    expect(next).toMatchObject({
      status: 'queued',
      charge_id: String(queued?.id),
      skipped_charge_id: null,
      skippable: true,
    })
    expect(next.lines.map((line) => line.kind)).toEqual(['subscription', 'subscription'])
    expect(next.lines.every((line) => line.skippable && !line.skipped)).toBe(true)
    expect(afterNext).toMatchObject({ status: 'scheduled', charge_id: null, skippable: true })
    expect(deliveries.every((delivery) => delivery.date <= dateInDays(56))).toBe(true)
    expect([...deliveries].map((d) => d.date)).toEqual([...deliveries].map((d) => d.date).sort())

    const oneWeek = await schedule(alice, app, 1)
    expect(oneWeek.every((delivery) => delivery.date <= dateInDays(7))).toBe(true)
    expect(oneWeek.length).toBeLessThan(deliveries.length)
    const tooMany = await h.call(app, alice, 'GET', '/v1/delivery-schedule?weeks=27')
    expect(tooMany.statusCode).toBe(400)
    // Cached: the second read costs no upstream call.
    const before = await h.ledgerLength()
    const again = await h.call(app, alice, 'GET', '/v1/delivery-schedule')
    expect(again.headers['x-cache']).toBe('HIT')
    expect(await h.upstreamSince(before)).toEqual([])
  })

  it('skips the delivery after next by date, and restores it by its skipped charge', async () => {
    const { afterNext } = await aliceDeliveries()
    const skipped = await h.call(app, alice, 'POST', '/v1/delivery-schedule/skip', { date: afterNext.date })
    expect(skipped.statusCode).toBe(200)
    expect(skipped.json()).toMatchObject({ date: afterNext.date, status: 'skipped', unskippable: true })
    const parked = (await h.sim.state()).charges.find(
      (row) => row.status === 'skipped' && row.scheduled_at === afterNext.date,
    )
    expect(skipped.json().skipped_charge_id).toBe(String(parked?.id))
    // The next read shows it.
    const shown = (await schedule()).find((delivery) => delivery.date === afterNext.date)
    expect(shown?.status).toBe('skipped')

    const restored = await h.call(app, alice, 'POST', `/v1/charges/${parked?.id}/unskip`)
    expect(restored.statusCode).toBe(200)
    expect(restored.json()).toMatchObject({ date: afterNext.date, status: 'scheduled', skipped_charge_id: null })
    expect((await h.sim.state()).charges.some((row) => row.status === 'skipped')).toBe(false)
  })

  it('skips one subscription of the next delivery by its charge, then restores it', async () => {
    const { next } = await aliceDeliveries()
    const [first, second] = next.lines
    const skipped = await h.call(app, alice, 'POST', `/v1/charges/${next.charge_id}/skip`, {
      subscription_ids: [first?.id],
    })
    expect(skipped.statusCode).toBe(200)
    const delivery = skipped.json() as Delivery
    expect(delivery).toMatchObject({ status: 'partly_skipped', charge_id: next.charge_id })
    expect(delivery.lines.find((line) => line.id === first?.id)?.skipped).toBe(true)
    expect(delivery.lines.find((line) => line.id === second?.id)?.skipped).toBe(false)
    expect(delivery.skipped_charge_id).not.toBeNull()

    const restored = await h.call(app, alice, 'POST', `/v1/charges/${delivery.skipped_charge_id}/unskip`)
    expect(restored.statusCode).toBe(200)
    expect(restored.json()).toMatchObject({ status: 'queued', skipped_charge_id: null })

    // Default: every subscription on the charge.
    const all = await h.call(app, alice, 'POST', `/v1/charges/${next.charge_id}/skip`)
    expect(all.json()).toMatchObject({ status: 'skipped' })
  })

  it('answers 422 codes for dates, subscriptions and charges it cannot skip, before any write', async () => {
    const { next, afterNext } = await aliceDeliveries()
    const state = await h.sim.state()
    const bobSubscription = String(state.subscriptions.find((row) => String(row.customer_id) === bobId)?.id)
    const before = await h.ledgerLength()
    const cases: [string, string, object | undefined, string][] = [
      ['no delivery that day', '/v1/delivery-schedule/skip', { date: dateInDays(2) }, 'NOT_IN_SCHEDULE'],
      ['today', '/v1/delivery-schedule/skip', { date: dateInDays(0) }, 'NOT_IN_SCHEDULE'],
      [
        'not on that date',
        '/v1/delivery-schedule/skip',
        { date: afterNext.date, subscription_ids: [bobSubscription] },
        'NOT_ON_DELIVERY',
      ],
      [
        'not on the charge',
        `/v1/charges/${next.charge_id}/skip`,
        { subscription_ids: [bobSubscription] },
        'NOT_ON_DELIVERY',
      ],
      ['unskip a queued charge', `/v1/charges/${next.charge_id}/unskip`, undefined, 'CHARGE_NOT_SKIPPABLE'],
    ]
    for (const [name, url, body, code] of cases) {
      const response = await h.call(app, alice, 'POST', url, body)
      expect(response.statusCode, name).toBe(422)
      expect(response.json().code, name).toBe(code)
    }
    expect((await h.upstreamSince(before)).filter((line) => !line.startsWith('GET'))).toEqual([])
  })

  it('maps Recharge’s refusal of a charge changed behind the bridge’s back, and a processed charge, to 422', async () => {
    const { next } = await aliceDeliveries()
    // Skipped in Recharge directly: the bridge's cached charges still say queued, Recharge refuses.
    expect((await h.sim.api('POST', `/charges/${next.charge_id}/skip`, {})).status).toBe(200)
    const refused = await h.call(app, alice, 'POST', `/v1/charges/${next.charge_id}/skip`)
    expect(refused.statusCode).toBe(422)
    expect(refused.json().code).toBe('CHARGE_NOT_SKIPPABLE')
    // Now it knows: skipping it again is refused without a write.
    const before = await h.ledgerLength()
    const known = await h.call(app, alice, 'POST', `/v1/charges/${next.charge_id}/skip`)
    expect(known.json().code).toBe('CHARGE_NOT_SKIPPABLE')
    expect((await h.upstreamSince(before)).filter((line) => line.startsWith('POST'))).toEqual([])

    await h.reset()
    const fresh = await aliceDeliveries()
    expect((await h.sim.api('POST', `/charges/${fresh.next.charge_id}/process`, {})).status).toBe(200)
    await app.cache.invalidateTags([`customer:${aliceId}`])
    const processed = await h.call(app, alice, 'POST', `/v1/charges/${fresh.next.charge_id}/skip`)
    expect(processed.statusCode).toBe(422)
    expect(processed.json().code).toBe('CHARGE_NOT_SKIPPABLE')
  })

  it('answers 404 for another shopper’s charge and address, with no upstream call for them', async () => {
    const state = await h.sim.state()
    const bobCharge = String(
      state.charges.find((row) => String(row.customer.id) === bobId && row.status === 'queued')?.id,
    )
    const bobAddress = String(state.addresses.find((row) => String(row.customer_id) === bobId)?.id)
    const { afterNext } = await aliceDeliveries()
    await h.call(app, alice, 'GET', '/v1/addresses')
    const before = await h.ledgerLength()
    const attempts: [string, string, object?][] = [
      ['skip', `/v1/charges/${bobCharge}/skip`],
      ['unskip', `/v1/charges/${bobCharge}/unskip`],
      ['by date at bob’s address', '/v1/delivery-schedule/skip', { date: afterNext.date, address_id: bobAddress }],
    ]
    for (const [name, url, body] of attempts) {
      const response = await h.call(app, alice, 'POST', url, body)
      expect(response.statusCode, name).toBe(404)
      expect(response.json().code, name).toBe('NOT_FOUND')
    }
    const calls = await h.upstreamSince(before)
    expect(calls.filter((line) => line.includes(bobCharge) || line.includes(bobAddress))).toEqual([])
    expect(calls.filter((line) => !line.startsWith('GET'))).toEqual([])
  })

  it('replays a repeated Idempotency-Key without a second upstream write', async () => {
    const { next, afterNext } = await aliceDeliveries()
    const before = await h.ledgerLength()
    const key = randomUUID()
    const url = `/v1/charges/${next.charge_id}/skip`
    const first = await h.call(app, alice, 'POST', url, {}, { 'idempotency-key': key })
    const again = await h.call(app, alice, 'POST', url, {}, { 'idempotency-key': key })
    expect(first.statusCode).toBe(200)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.body).toBe(first.body)
    const dateKey = randomUUID()
    const body = { date: afterNext.date }
    const byDate = await h.call(app, alice, 'POST', '/v1/delivery-schedule/skip', body, { 'idempotency-key': dateKey })
    const byDateAgain = await h.call(app, alice, 'POST', '/v1/delivery-schedule/skip', body, {
      'idempotency-key': dateKey,
    })
    expect([byDate.statusCode, byDateAgain.statusCode]).toEqual([200, 200])
    expect(byDateAgain.headers['idempotent-replayed']).toBe('true')
    const writes = (await h.upstreamSince(before)).filter((line) => line.startsWith('POST'))
    expect(writes).toEqual([`POST /charges/${next.charge_id}/skip`, `POST /addresses/${next.address_id}/charges/skip`])
  })

  it('confirms a skip whose answer was lost by reading the schedule back', async () => {
    const { next, afterNext } = await aliceDeliveries()
    await h.sim.setFaults([
      { match: { method: 'POST', path: `/charges/${next.charge_id}/skip` }, truncate: true, count: 1 },
    ])
    const skipped = await h.call(app, alice, 'POST', `/v1/charges/${next.charge_id}/skip`)
    expect(skipped.statusCode).toBe(200)
    expect(skipped.json().status).toBe('skipped')

    await h.sim.setFaults([{ match: { method: 'POST', path: '/addresses/' }, malformed: true, count: 1 }])
    const byDate = await h.call(app, alice, 'POST', '/v1/delivery-schedule/skip', { date: afterNext.date })
    expect(byDate.statusCode).toBe(200)
    expect(byDate.json().status).toBe('skipped')
    expect((await h.sim.ledger({ method: 'POST' })).length).toBe(2)
  })

  it('answers 403 ACTION_NOT_ALLOWED when skip and unskip are off, and offers neither', async () => {
    const strict = await h.bridge({ actions: { skip: false, unskip: false } })
    const token = await h.mint(strict, 'alice@example.com')
    const deliveries = await schedule(token, strict)
    expect(deliveries.some((delivery) => delivery.skippable || delivery.unskippable)).toBe(false)
    const [next] = deliveries
    const before = await h.ledgerLength()
    const attempts: [string, object?][] = [
      [`/v1/charges/${next?.charge_id}/skip`],
      [`/v1/charges/${next?.charge_id}/unskip`],
      ['/v1/delivery-schedule/skip', { date: deliveries[1]?.date }],
    ]
    for (const [url, body] of attempts) {
      const response = await h.call(strict, token, 'POST', url, body)
      expect(response.statusCode, url).toBe(403)
      expect(response.json().code).toBe('ACTION_NOT_ALLOWED')
    }
    expect(await h.upstreamSince(before)).toEqual([])
  })
})

describe('webhooks', () => {
  let listening: FastifyInstance
  let url: string
  const prefix = `test:schedule-webhooks:${randomUUID().slice(0, 8)}`

  beforeAll(async () => {
    listening = await h.bridge(
      undefined,
      {
        backgroundWorkers: true,
        webhooks: { keyPrefix: prefix, retryAfterMs: 1_000, blockMs: 100, watchdog: false },
      } as never,
      { RECHARGE_WEBHOOK_SECRET: h.sim.clientSecret },
    )
    url = await h.listen(listening)
  })
  afterAll(async () => {
    await deleteKeys(h.redis, `${prefix}*`)
  })

  async function subscribe() {
    for (const topic of ['onetime/created', 'onetime/deleted', 'charge/updated', 'charge/created']) {
      const created = await h.sim.api('POST', '/webhooks', {
        address: `${url}/v1/webhooks/recharge?topic=${topic}`,
        topic,
      })
      expect(created.status).toBe(201)
    }
  }

  it('a onetime or skip made in Recharge directly shows on the next read', async () => {
    await subscribe()
    const token = await h.mint(listening, 'alice@example.com')
    const read = () => schedule(token, listening)
    const onetimes = async () =>
      (await h.call(listening, token, 'GET', '/v1/onetimes')).json().onetimes as { id: string }[]
    const [next] = await read()
    expect(await onetimes()).toEqual([])

    const created = await h.sim.api('POST', '/onetimes', {
      address_id: Number(next?.address_id),
      external_variant_id: { ecommerce: '7200000041' },
      quantity: 1,
      add_to_next_charge: true,
    })
    expect(created.status).toBe(201)
    const id = String(created.body.onetime.id)
    expect(await onetimes()).toEqual([]) // cached: only a webhook tells the bridge
    await h.sim.deliverWebhooks()
    await until(async () => (await onetimes()).some((row) => row.id === id))
    await until(async () => ((await read())[0]?.lines ?? []).some((line) => line.id === id))

    expect((await h.sim.api('DELETE', `/onetimes/${id}`)).status).toBe(204)
    await h.sim.deliverWebhooks()
    await until(async () => (await onetimes()).length === 0)
    await until(async () => !((await read())[0]?.lines ?? []).some((line) => line.id === id))

    expect((await h.sim.api('POST', `/charges/${next?.charge_id}/skip`, {})).status).toBe(200)
    await h.sim.deliverWebhooks()
    await until(async () => (await read()).find((delivery) => delivery.date === next?.date)?.status === 'skipped')
  })
})
