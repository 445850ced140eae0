import type { Customer } from './types.ts'

/**
 * Record maps that keep lookup indexes, so a store seeded with tens of thousands of shoppers (SIM_SEED_CUSTOMERS)
 * answers a customer's lists and an email lookup without reading every record. They are plain Maps to everything
 * else: an index is updated on `set`/`delete`/`clear`, and whoever changes an indexed field in place calls `set`
 * again. Lookups check each hit against the record as it is now, so a stale entry can only cost a miss, never a
 * wrong answer.
 */

/** Records grouped by the customer they belong to (a field no route changes after creation). */
export class CustomerRecords<V extends { id: number }> extends Map<number, V> {
  readonly #customerOf: (record: V) => number
  #byCustomer = new Map<number, Set<number>>()
  #indexedAs = new Map<number, number>()

  constructor(customerOf: (record: V) => number) {
    super()
    this.#customerOf = customerOf
  }

  override set(id: number, record: V): this {
    super.set(id, record)
    // The base constructor calls nothing here (no initial entries), so the private fields always exist.
    const customerId = this.#customerOf(record)
    const previous = this.#indexedAs.get(id)
    if (previous !== customerId) {
      if (previous !== undefined) this.#byCustomer.get(previous)?.delete(id)
      let ids = this.#byCustomer.get(customerId)
      if (!ids) {
        ids = new Set()
        this.#byCustomer.set(customerId, ids)
      }
      ids.add(id)
      this.#indexedAs.set(id, customerId)
    }
    return this
  }

  override delete(id: number): boolean {
    const previous = this.#indexedAs.get(id)
    if (previous !== undefined) {
      const ids = this.#byCustomer.get(previous)
      ids?.delete(id)
      if (ids?.size === 0) this.#byCustomer.delete(previous)
      this.#indexedAs.delete(id)
    }
    return super.delete(id)
  }

  override clear(): void {
    this.#byCustomer.clear()
    this.#indexedAs.clear()
    super.clear()
  }

  /** The customer's records, in the order they were first stored. */
  ofCustomer(customerId: number): V[] {
    const ids = this.#byCustomer.get(customerId)
    if (!ids) return []
    const out: V[] = []
    for (const id of ids) {
      const record = super.get(id)
      if (record && this.#customerOf(record) === customerId) out.push(record)
    }
    return out
  }
}

/** Customers, looked up by email (case-insensitive, as Recharge compares them) and by external customer id. */
export class CustomerMap extends Map<number, Customer> {
  #byEmail = new Map<string, Set<number>>()
  #byExternalId = new Map<string, Set<number>>()
  #indexedAs = new Map<number, { email: string; externalId: string | null }>()

  override set(id: number, customer: Customer): this {
    super.set(id, customer)
    this.#unindex(id)
    const keys = { email: emailKey(customer.email), externalId: customer.external_customer_id.ecommerce }
    addTo(this.#byEmail, keys.email, id)
    if (keys.externalId !== null) addTo(this.#byExternalId, keys.externalId, id)
    this.#indexedAs.set(id, keys)
    return this
  }

  override delete(id: number): boolean {
    this.#unindex(id)
    return super.delete(id)
  }

  override clear(): void {
    this.#byEmail.clear()
    this.#byExternalId.clear()
    this.#indexedAs.clear()
    super.clear()
  }

  byEmail(email: string): Customer[] {
    const key = emailKey(email)
    return this.#hits(this.#byEmail.get(key), (customer) => emailKey(customer.email) === key)
  }

  byExternalId(externalId: string): Customer[] {
    return this.#hits(
      this.#byExternalId.get(externalId),
      (customer) => customer.external_customer_id.ecommerce === externalId,
    )
  }

  #hits(ids: Set<number> | undefined, still: (customer: Customer) => boolean): Customer[] {
    if (!ids) return []
    const out: Customer[] = []
    for (const id of ids) {
      const customer = super.get(id)
      if (customer && still(customer)) out.push(customer)
    }
    return out
  }

  #unindex(id: number): void {
    const keys = this.#indexedAs.get(id)
    if (!keys) return
    removeFrom(this.#byEmail, keys.email, id)
    if (keys.externalId !== null) removeFrom(this.#byExternalId, keys.externalId, id)
    this.#indexedAs.delete(id)
  }
}

function emailKey(email: string): string {
  return email.toLowerCase()
}

function addTo(index: Map<string, Set<number>>, key: string, id: number): void {
  const ids = index.get(key)
  if (ids) ids.add(id)
  else index.set(key, new Set([id]))
}

function removeFrom(index: Map<string, Set<number>>, key: string, id: number): void {
  const ids = index.get(key)
  if (!ids) return
  ids.delete(id)
  if (ids.size === 0) index.delete(key)
}
