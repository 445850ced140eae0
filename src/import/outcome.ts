/** What happened to one record: shared by the saga, the run store, the routes and the CLI. */
export type ImportStep = 'validate' | 'customer' | 'payment_method' | 'address' | 'subscription'

export interface RecordOutcome {
  index: number
  external_order_id: string | null
  /** created: the import wrote at least one record; found: everything already existed; failed: see step/code. */
  status: 'created' | 'found' | 'failed'
  customer_id: string | null
  payment_method_id: string | null
  address_id: string | null
  subscription_ids: string[]
  /** What this attempt created (the rest was found). A dry run says what it would create. */
  created: { customer: boolean; payment_method: boolean; address: boolean; subscriptions: number }
  step?: ImportStep
  code?: string
  message?: string
  /** The failure may pass on a later attempt (Recharge busy or down); a rejected record will not. */
  retryable?: boolean
  /** Upstream calls this record took (reads + writes), over all its attempts. */
  calls: number
}

export function emptyOutcome(index: number, externalOrderId: string | null): RecordOutcome {
  return {
    index,
    external_order_id: externalOrderId,
    status: 'failed',
    customer_id: null,
    payment_method_id: null,
    address_id: null,
    subscription_ids: [],
    created: { customer: false, payment_method: false, address: false, subscriptions: 0 },
    calls: 0,
  }
}
