import { describe, expect, it } from 'vitest'
import { subjectTag } from '../../src/shopper/records.ts'
import { bridgeEvent, parseTimestamp, recordRef, tagsFor } from '../../src/webhooks/event.ts'
import { planRegistration, webhookAddress } from '../../src/webhooks/registration.ts'
import { NEEDED_TOPICS, resolveTopic } from '../../src/webhooks/topics.ts'

describe('topic resolution', () => {
  const payload = { subscription: { id: 1, customer_id: 2 } }

  it('takes the resource from the payload key and the topic from the registration URL first', () => {
    expect(resolveTopic(payload, 'subscription/cancelled', 'subscription/updated')).toEqual({
      topic: 'subscription/cancelled',
      resource: 'subscription',
      mismatch: false,
    })
    expect(resolveTopic(payload, undefined, 'subscription/updated')?.topic).toBe('subscription/updated')
    expect(resolveTopic(payload, undefined, undefined)?.topic).toBe('subscription/unknown')
  })

  it('flags a URL topic whose family disagrees with the payload, and ignores junk topics', () => {
    expect(resolveTopic(payload, 'charge/paid', undefined)).toMatchObject({ resource: 'subscription', mismatch: true })
    expect(resolveTopic(payload, 'not a topic<script>', undefined)?.topic).toBe('subscription/unknown')
    expect(resolveTopic({ subscription: [] }, 'subscription/updated', undefined)).toBeNull()
    expect(resolveTopic('text', undefined, undefined)).toBeNull()
  })
})

describe('cache tags per resource', () => {
  it('tags customer-owned records by customer and by their own id', () => {
    expect(tagsFor('subscription', { id: 10, customer_id: 20, address_id: 30 }).sort()).toEqual([
      'address:30',
      'customer:20',
      'subscription:10',
    ])
    expect(tagsFor('charge', { id: 5, customer: { id: 20 } }).sort()).toEqual(['charge:5', 'customer:20'])
    expect(tagsFor('order', { id: 7, customer_id: 20, charge: { id: 5 } }).sort()).toEqual([
      'charge:5',
      'customer:20',
      'order:7',
    ])
    expect(tagsFor('address', { id: 30, customer_id: 20 }).sort()).toEqual(['address:30', 'customer:20'])
    expect(tagsFor('customer', { id: 20 })).toEqual(['customer:20'])
  })

  it("drops the shopper identity lookups of a customer's email and external id", () => {
    const tags = tagsFor('customer', { id: 20, email: 'Ada@Example.com', external_customer_id: { ecommerce: '555' } })
    expect(tags).toContain(subjectTag({ kind: 'email', email: 'ada@example.com' }))
    expect(tags).toContain(subjectTag({ kind: 'external_id', externalCustomerId: '555' }))
    expect(tags).toHaveLength(3)
  })

  it('tags catalog records by product and catalog, and the store by store', () => {
    expect(tagsFor('plan', { id: 1, external_product_id: { ecommerce: '999' } }).sort()).toEqual([
      'catalog',
      'product:999',
    ])
    expect(tagsFor('store', { id: 1 }).sort()).toEqual(['catalog', 'store'])
    expect(tagsFor('gift_purchase', { id: 1 })).toEqual([])
  })
})

describe('record versions and events', () => {
  it('reads naive UTC and offset timestamps alike', () => {
    expect(parseTimestamp('2021-11-10T10:00:00')).toBe(Date.UTC(2021, 10, 10, 10))
    expect(parseTimestamp('2021-11-10T12:00:00+02:00')).toBe(Date.UTC(2021, 10, 10, 10))
    expect(parseTimestamp('soon')).toBeNull()
    expect(recordRef('subscription', { id: 1, updated_at: '2021-11-10T10:00:00' })).toEqual({
      resource: 'subscription',
      id: '1',
      updatedAt: Date.UTC(2021, 10, 10, 10),
    })
    expect(recordRef('subscription', {})).toBeNull()
  })

  it('normalises the forwarded event', () => {
    const event = bridgeEvent({
      id: 'evt_1',
      topic: 'subscription/updated',
      resource: 'subscription',
      record: { id: 1, updated_at: '2021-11-10T10:00:00' },
      receivedAt: 0,
      superseded: false,
    })
    expect(event).toMatchObject({ id: 'evt_1', occurred_at: '2021-11-10T10:00:00.000Z', superseded: false })
  })
})

describe('registration plan', () => {
  const url = 'https://bridge.example'
  const hook = (id: string, topic: string, address = webhookAddress(url, topic)) => ({
    id,
    topic,
    address,
    included_objects: null,
    version: null,
    created_at: null,
    updated_at: null,
  })

  it('keeps one webhook per needed topic, marks extras of ours redundant, leaves foreign ones alone', () => {
    const plan = planRegistration(
      [
        hook('1', 'subscription/updated'),
        hook('2', 'subscription/updated'),
        hook('3', 'checkout/created'),
        hook('4', 'subscription/created', `${url}/v1/webhooks/recharge`),
        hook('5', 'subscription/created', 'https://other.example/hooks'),
        hook('6', 'charge/paid', `${url}/v1/webhooks/recharge/?topic=charge%2Fpaid`),
      ],
      url,
    )
    expect(plan.kept.map((w) => w.id)).toEqual(['1', '6'])
    expect(plan.prunable.map((w) => w.id).sort()).toEqual(['2', '3', '4'])
    expect(plan.foreign.map((w) => w.id)).toEqual(['5'])
    expect(plan.missing).toHaveLength(NEEDED_TOPICS.length - 2)
    expect(plan.missing).not.toContain('subscription/updated')
  })
})
