import { subjectTag } from '../shopper/records.ts'

/**
 * What a verified delivery means for the bridge: which cache tags it makes stale, which record it is (for the
 * ordering guard) and the normalised event forwarded to the merchant.
 */

export interface RecordRef {
  resource: string
  id: string
  /** Epoch ms of the record's `updated_at`, when the payload has one. */
  updatedAt: number | null
}

type Json = Record<string, unknown>

function asObject(value: unknown): Json | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : null
}

function idString(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  if (typeof value === 'string' && value.trim() !== '' && value.length <= 100) return value.trim()
  return null
}

/** Recharge sends naive UTC timestamps ("2021-11-10T10:00:00") or ones with an offset. */
export function parseTimestamp(value: unknown): number | null {
  if (typeof value !== 'string' || value.length > 40) return null
  const text = value.trim()
  const naive = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)
  const ms = Date.parse(naive ? `${text}Z` : text)
  return Number.isNaN(ms) ? null : ms
}

/** 2021-11 puts external ids in `{ecommerce: "…"}`; older shapes use a bare string or number. */
function externalId(value: unknown): string | null {
  const object = asObject(value)
  return object ? idString(object.ecommerce) : idString(value)
}

/** The customer id of a record: `customer_id`, or `customer.id` (charges and orders nest the customer). */
function customerIdOf(record: Json): string | null {
  return idString(record.customer_id) ?? idString(asObject(record.customer)?.id)
}

export function recordRef(resource: string, record: Json): RecordRef | null {
  const id = idString(record.id)
  if (!id) return null
  return { resource, id, updatedAt: parseTimestamp(record.updated_at) }
}

/**
 * Cache tags (src/cache/types.ts) a change of this record makes stale. Lists are tagged by customer, so a change to
 * any customer-owned record drops that customer's lists; single records are tagged by their own id.
 */
export function tagsFor(resource: string, record: Json): string[] {
  const tags = new Set<string>()
  const id = idString(record.id)
  const customerId = customerIdOf(record)
  const addressId = idString(record.address_id)
  if (customerId) tags.add(`customer:${customerId}`)
  switch (resource) {
    case 'subscription':
    case 'onetime':
      if (id) tags.add(`subscription:${id}`)
      if (addressId) tags.add(`address:${addressId}`)
      break
    case 'charge':
      if (id) tags.add(`charge:${id}`)
      if (addressId) tags.add(`address:${addressId}`)
      break
    case 'order': {
      if (id) tags.add(`order:${id}`)
      const chargeId = idString(record.charge_id) ?? idString(asObject(record.charge)?.id)
      if (chargeId) tags.add(`charge:${chargeId}`)
      break
    }
    case 'address':
      if (id) tags.add(`address:${id}`)
      break
    case 'customer': {
      if (id) tags.add(`customer:${id}`)
      // The shopper identity lookup (email / external id → customer), including a cached "no such customer" for a
      // shopper who signed in before Recharge knew them: a created customer or a changed email must be found at once.
      if (typeof record.email === 'string' && record.email.includes('@')) {
        tags.add(subjectTag({ kind: 'email', email: record.email.trim().toLowerCase() }))
      }
      const external = externalId(record.external_customer_id)
      if (external) tags.add(subjectTag({ kind: 'external_id', externalCustomerId: external }))
      break
    }
    case 'bundle_selection': {
      const subscriptionId = idString(record.purchase_item_id)
      if (subscriptionId) tags.add(`subscription:${subscriptionId}`)
      break
    }
    case 'plan':
    case 'product': {
      const product = externalId(record.external_product_id)
      if (product) tags.add(`product:${product}`)
      tags.add('catalog')
      break
    }
    case 'store':
      tags.add('store')
      tags.add('catalog')
      break
  }
  return [...tags]
}

/** The event shape forwarded to WEBHOOK_FORWARD_URL. `id` is stable across Recharge's redeliveries. */
export interface BridgeEvent {
  id: string
  topic: string
  resource: string
  /** The record's `updated_at` (ISO), else when we received the delivery. */
  occurred_at: string
  /** True when a newer version of the same record was already seen: do not apply `data` as current state. */
  superseded: boolean
  data: Json
}

export function bridgeEvent(input: {
  id: string
  topic: string
  resource: string
  record: Json
  receivedAt: number
  superseded: boolean
}): BridgeEvent {
  const updatedAt = parseTimestamp(input.record.updated_at)
  return {
    id: input.id,
    topic: input.topic,
    resource: input.resource,
    occurred_at: new Date(updatedAt ?? input.receivedAt).toISOString(),
    superseded: input.superseded,
    data: input.record,
  }
}
