import { describe, expect, it } from 'vitest'
import { CustomerMap, CustomerRecords } from '../../src/simulator/indexed-records.ts'
import type { Customer } from '../../src/simulator/types.ts'

function customer(id: number, email: string, externalId: string | null = null): Customer {
  return {
    id,
    analytics_data: { utm_params: [] },
    created_at: '2024-01-01T00:00:00',
    email,
    external_customer_id: { ecommerce: externalId },
    first_charge_processed_at: null,
    first_name: 'A',
    has_payment_method_in_dunning: false,
    has_valid_payment_method: true,
    hash: 'h',
    last_name: 'B',
    updated_at: '2024-01-01T00:00:00',
  }
}

describe('CustomerRecords', () => {
  it('lists a customer’s records in storing order, follows set/delete/clear, and stays a plain Map otherwise', () => {
    const records = new CustomerRecords<{ id: number; owner: number }>((record) => record.owner)
    records.set(3, { id: 3, owner: 1 }).set(1, { id: 1, owner: 2 }).set(2, { id: 2, owner: 1 })
    expect(records.ofCustomer(1).map((record) => record.id)).toEqual([3, 2])
    expect(records.ofCustomer(9)).toEqual([])
    records.set(3, { id: 3, owner: 2 }) // stored again under another owner: moves
    expect(records.ofCustomer(1).map((record) => record.id)).toEqual([2])
    expect(records.ofCustomer(2).map((record) => record.id)).toEqual([1, 3])
    records.delete(1)
    expect(records.ofCustomer(2).map((record) => record.id)).toEqual([3])
    expect([...records.keys()]).toEqual([3, 2])
    records.clear()
    expect(records.size).toBe(0)
    expect(records.ofCustomer(1)).toEqual([])
  })

  it('never answers a record whose owner changed in place without being stored again', () => {
    const records = new CustomerRecords<{ id: number; owner: number }>((record) => record.owner)
    const record = { id: 1, owner: 1 }
    records.set(1, record)
    record.owner = 2
    expect(records.ofCustomer(1)).toEqual([])
  })
})

describe('CustomerMap', () => {
  it('finds customers by email in any case and by external id, and re-indexes on set', () => {
    const customers = new CustomerMap()
    const ann = customer(1, 'Ann@Example.com', '700')
    customers.set(1, ann).set(2, customer(2, 'bo@example.com'))
    expect(customers.byEmail('ann@example.COM').map((found) => found.id)).toEqual([1])
    expect(customers.byExternalId('700').map((found) => found.id)).toEqual([1])
    expect(customers.byEmail('nobody@example.com')).toEqual([])

    ann.email = 'ann@new.example'
    ann.external_customer_id = { ecommerce: '701' }
    expect(customers.byEmail('ann@example.com')).toEqual([]) // a stale entry costs a miss, never a wrong hit
    customers.set(1, ann)
    expect(customers.byEmail('ann@new.example').map((found) => found.id)).toEqual([1])
    expect(customers.byExternalId('701').map((found) => found.id)).toEqual([1])
    expect(customers.byExternalId('700')).toEqual([])

    customers.delete(1)
    expect(customers.byEmail('ann@new.example')).toEqual([])
    expect(customers.get(2)?.email).toBe('bo@example.com')
  })
})
