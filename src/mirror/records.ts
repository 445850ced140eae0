import { z } from 'zod'
import { addressSchema } from '../recharge/schemas/addresses.ts'
import { chargeSchema } from '../recharge/schemas/charges.ts'
import { customerSchema } from '../recharge/schemas/customers.ts'
import { id, timestamp } from '../recharge/schemas/lenient.ts'
import { onetimeSchema } from '../recharge/schemas/onetimes.ts'
import { paymentMethodSchema } from '../recharge/schemas/payment-methods.ts'
import { subscriptionSchema } from '../recharge/schemas/subscriptions.ts'

/**
 * What the mirror keeps of each record: the fields the bridge's own lenient schemas read (so the account pages serve
 * exactly what they serve from Recharge), plus the owner (`customer_id`) and `updated_at`, which order the versions.
 * Every other key of a payload is dropped unread: a payment processor token or the portal hash never enters Redis.
 */
const owned = { customer_id: id, updated_at: timestamp }

/** Charges name their customer as `customer: {id}` (2021-11); older payloads and the webhook carry `customer_id`. */
function withCustomerId(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  const record = value as Record<string, unknown>
  if (record.customer_id != null) return record
  const customer = record.customer as { id?: unknown } | null | undefined
  return { ...record, customer_id: customer?.id }
}

export const mirrorSchemas = {
  // The hosted-portal hash authenticates the shopper's portal: it is never kept (the hand-off reads it live).
  customer: customerSchema.extend({ updated_at: timestamp }).transform((row) => ({ ...row, hash: null })),
  address: addressSchema.extend(owned),
  subscription: subscriptionSchema.extend(owned),
  charge: z.preprocess(withCustomerId, chargeSchema.extend(owned)),
  onetime: onetimeSchema.extend(owned),
  payment_method: paymentMethodSchema.extend(owned),
}

export type MirrorKind = keyof typeof mirrorSchemas
export const MIRROR_KINDS = Object.keys(mirrorSchemas) as MirrorKind[]

export type MirrorCustomer = z.output<(typeof mirrorSchemas)['customer']>
export type MirrorAddress = z.output<(typeof mirrorSchemas)['address']>
export type MirrorSubscription = z.output<(typeof mirrorSchemas)['subscription']>
export type MirrorCharge = z.output<(typeof mirrorSchemas)['charge']>
export type MirrorOnetime = z.output<(typeof mirrorSchemas)['onetime']>
export type MirrorPaymentMethod = z.output<(typeof mirrorSchemas)['payment_method']>

/** A parsed record ready to apply: its kind, id, owner, version time (epoch ms) and the JSON kept ('' = not kept). */
export interface MirrorRecord {
  kind: MirrorKind
  id: string
  customerId: string
  updatedAtMs: number
  json: string
  /** The customer's email and external id (customer records only), for the lookup indexes. */
  email?: string | null
  externalCustomerId?: string | null
}

/** Upcoming charges only: any other status (paid, failed, refunded) leaves the mirror, like it leaves the page. */
const UPCOMING = new Set(['queued', 'skipped'])

/** Parse a Recharge record of `kind` for the mirror; null when it lacks what the mirror needs (id, owner, time). */
export function mirrorRecord(kind: MirrorKind, raw: unknown): MirrorRecord | null {
  const parsed = mirrorSchemas[kind].safeParse(raw)
  if (!parsed.success) return null
  const row = parsed.data as { id: string; updated_at: string; customer_id?: string; status?: string }
  const customerId = kind === 'customer' ? row.id : row.customer_id
  if (!customerId) return null
  const kept = kind !== 'charge' || UPCOMING.has(row.status ?? '')
  const record: MirrorRecord = {
    kind,
    id: row.id,
    customerId,
    updatedAtMs: Date.parse(row.updated_at),
    json: kept ? JSON.stringify(row) : '',
  }
  if (kind === 'customer') {
    const customer = parsed.data as MirrorCustomer
    record.email = customer.email ?? null
    record.externalCustomerId = customer.external_customer_id ?? null
  }
  return record
}

/** The kind a webhook resource names (`customer`, `address`, …), or null for what the mirror does not keep. */
export function kindOfResource(resource: string): MirrorKind | null {
  return resource in mirrorSchemas ? (resource as MirrorKind) : null
}

/** One customer's mirrored account, as the shopper read path serves it. */
export interface MirrorAccount {
  customer: MirrorCustomer
  addresses: MirrorAddress[]
  subscriptions: MirrorSubscription[]
  charges: MirrorCharge[]
  onetimes: MirrorOnetime[]
  paymentMethods: MirrorPaymentMethod[]
}
