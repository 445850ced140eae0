import { AppError } from '../errors.ts'
import type { CustomerSubject } from '../identity/customer-token.ts'
import type { CustomerIdentity } from '../identity/resolver.ts'
import type { MirrorAccount } from '../mirror/records.ts'
import type { MirrorService } from '../mirror/service.ts'
import type { Customer } from '../recharge/schemas/customers.ts'
import type { Onetime } from '../recharge/schemas/onetimes.ts'
import type { PaymentMethod } from '../recharge/schemas/payment-methods.ts'

/**
 * The account mirror as the shopper's records read it (src/mirror, MIRROR=on). Each read answers null (or undefined)
 * whenever the mirror cannot vouch for it (warming, degraded, customer not held or held back): the caller then reads
 * through the cache and Recharge as without a mirror. When it answers, it is also the ownership proof: an id not in
 * the shopper's mirrored records is 404 at once, with no upstream call at all.
 */
export type ShopperMirror = Pick<MirrorService, 'account' | 'customerIdFor' | 'afterWrite'>

/** Which rows of a mirrored account each shopper list is. */
export const mirroredRows = {
  subscriptions: (account: MirrorAccount) => account.subscriptions,
  charges: (account: MirrorAccount) => account.charges,
  addresses: (account: MirrorAccount) => account.addresses,
  /** Upcoming onetimes, as the cached list filters them. */
  onetimes: (account: MirrorAccount): Onetime[] => account.onetimes.filter((row) => row.is_cancelled !== true),
  paymentMethods: (account: MirrorAccount): PaymentMethod[] => account.paymentMethods,
}

export class MirroredRecords {
  private readonly mirror: ShopperMirror | null

  constructor(mirror: ShopperMirror | null) {
    this.mirror = mirror
  }

  /** The identity the mirror holds for a subject, or null (not ready, unknown there, or the index is out of date). */
  async identity(subject: CustomerSubject): Promise<CustomerIdentity | null> {
    if (!this.mirror) return null
    const reference =
      subject.kind === 'email' ? { email: subject.email } : { externalCustomerId: subject.externalCustomerId }
    const customerId = await this.mirror.customerIdFor(reference)
    const account = customerId ? await this.mirror.account(customerId) : null
    if (!account) return null
    const customer = account.customer
    const matches =
      subject.kind === 'email'
        ? (customer.email ?? '').toLowerCase() === subject.email.toLowerCase()
        : customer.external_customer_id === subject.externalCustomerId
    if (!matches) return null
    return { customerId: customer.id, email: customer.email ?? '', externalCustomerId: customer.external_customer_id }
  }

  async customer(customerId: string): Promise<Customer | null> {
    return (await this.mirror?.account(customerId))?.customer ?? null
  }

  async rows<T>(customerId: string, pick: (account: MirrorAccount) => T[]): Promise<T[] | null> {
    const account = await this.mirror?.account(customerId)
    return account ? pick(account) : null
  }

  /** The shopper's row with this id; undefined when the mirror cannot tell (fall back); 404 when it is not theirs. */
  async own<T extends { id: string }>(
    customerId: string,
    id: string,
    pick: (account: MirrorAccount) => T[],
  ): Promise<T | undefined> {
    const rows = await this.rows(customerId, pick)
    if (rows === null) return undefined
    const found = rows.find((row) => row.id === id)
    if (found) return found
    throw new AppError('NOT_FOUND', { detail: 'No such record for this customer.' })
  }

  /** Write-through: the mirror re-reads what a write may have changed before the shopper's next read. */
  async afterWrite(customerId: string): Promise<void> {
    await this.mirror?.afterWrite(customerId)
  }
}
