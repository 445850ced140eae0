import type { CustomerSubject } from './customer-token.ts'

/** Who a verified customer token is, in Recharge terms (no hash: that is fetched only to build a portal URL). */
export interface CustomerIdentity {
  customerId: string
  email: string
  externalCustomerId: string | null
}

export interface LookupOptions {
  deadlineMs?: number
  signal?: AbortSignal
}

/** Maps a token subject to a Recharge customer; null when Recharge has none. Implemented over the cached client. */
export type IdentityResolver = (subject: CustomerSubject, options?: LookupOptions) => Promise<CustomerIdentity | null>
