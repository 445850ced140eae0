import { describe, expect, it } from 'vitest'
import { kindOfResource, mirrorRecord } from '../../src/mirror/records.ts'

/** What the mirror keeps of a Recharge record: the served fields, its owner and version, never a token or hash. */
describe('mirror records', () => {
  it('keeps a customer without the portal hash, with the lookup fields', () => {
    const record = mirrorRecord('customer', {
      id: 42,
      email: 'a@example.com',
      external_customer_id: { ecommerce: '7001' },
      hash: 'portal-secret',
      first_name: 'A',
      updated_at: '2026-01-02T03:04:05',
      unrelated: { nested: true },
    })
    expect(record).toMatchObject({ kind: 'customer', id: '42', customerId: '42', email: 'a@example.com' })
    expect(record?.externalCustomerId).toBe('7001')
    expect(record?.updatedAtMs).toBe(Date.parse('2026-01-02T03:04:05Z'))
    expect(record?.json).not.toContain('portal-secret')
    expect(record?.json).not.toContain('unrelated')
  })

  it('drops processor tokens from payment methods', () => {
    const record = mirrorRecord('payment_method', {
      id: 9,
      customer_id: 42,
      processor_customer_token: 'cus_secret',
      processor_payment_method_token: 'pm_secret',
      payment_details: { brand: 'visa', last4: '4242' },
      updated_at: '2026-01-02T03:04:05Z',
    })
    expect(record?.json).toContain('4242')
    expect(record?.json).not.toMatch(/secret|processor_.*token/)
  })

  it("reads a charge's owner from customer.id, and keeps only upcoming charges", () => {
    const charge = {
      id: 5,
      customer: { id: 42, email: 'a@example.com' },
      status: 'QUEUED',
      line_items: [],
      updated_at: '2026-01-02T03:04:05Z',
    }
    const queued = mirrorRecord('charge', charge)
    expect(queued).toMatchObject({ customerId: '42', id: '5' })
    expect(JSON.parse(queued?.json ?? '{}').status).toBe('queued')
    expect(mirrorRecord('charge', { ...charge, status: 'SUCCESS' })?.json).toBe('')
  })

  it('refuses a record it cannot order or place (no updated_at, no owner)', () => {
    expect(mirrorRecord('subscription', { id: 1, address_id: 2, status: 'active', quantity: 1 })).toBeNull()
    expect(
      mirrorRecord('address', { id: 1, updated_at: '2026-01-02T03:04:05Z', address1: 'x', country_code: 'US' }),
    ).toBeNull()
  })

  it('maps webhook resources to kinds', () => {
    expect(kindOfResource('subscription')).toBe('subscription')
    expect(kindOfResource('order')).toBeNull()
  })
})
