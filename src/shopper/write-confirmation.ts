import type { AddressUpdate } from '../recharge/resources/addresses.ts'
import type { SubscriptionUpdate } from '../recharge/resources/subscriptions.ts'
import type { Address } from '../recharge/schemas/addresses.ts'
import type { Subscription } from '../recharge/schemas/subscriptions.ts'

/**
 * Reading a write back after its answer was lost (a timeout, a reset, a garbled body): does the record show the
 * change? Only "yes" is a conclusion. A record without the change proves nothing, since Recharge may still apply a
 * write it received, so the caller keeps answering "outcome unknown" then. The comparisons therefore lean to "no":
 * a value read back in another form than it was sent (as the lenient schemas normalise it) must still compare equal,
 * and anything not understood here compares unequal.
 */

/** The subscription shows every field of `update` and, when given, the next charge date. */
export function showsSubscriptionUpdate(
  subscription: Subscription,
  update: SubscriptionUpdate,
  nextChargeDate?: string,
): boolean {
  if (nextChargeDate !== undefined && subscription.next_charge_scheduled_at !== nextChargeDate) return false
  const read = subscription as unknown as Record<string, unknown>
  for (const [field, sent] of Object.entries(update)) {
    if (field === 'commit' || sent === undefined) continue
    if (
      !sameValue(
        read[field],
        field === 'external_variant_id' || field === 'external_product_id' ? ecommerceOf(sent) : sent,
      )
    ) {
      return false
    }
  }
  return true
}

/** The address shows every field of `update`. */
export function showsAddressUpdate(address: Address, update: AddressUpdate): boolean {
  const read = address as unknown as Record<string, unknown>
  return Object.entries(update).every(([field, sent]) => sent === undefined || sameValue(read[field], sent))
}

/**
 * The subscription is off the delivery of `chargeDate`: a skip moves its next charge past that date (dates are
 * normalised to YYYY-MM-DD by the lenient schemas, so they compare as text).
 */
export function showsSkipped(subscription: Subscription, chargeDate: string | null): boolean {
  const next = subscription.next_charge_scheduled_at
  return chargeDate !== null && next !== null && next > chargeDate
}

/** The subscription is back on the delivery of `chargeDate`: an unskip returns its next charge to that date. */
export function showsUnskipped(subscription: Subscription, chargeDate: string | null): boolean {
  return chargeDate !== null && subscription.next_charge_scheduled_at === chargeDate
}

function ecommerceOf(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? (value as { ecommerce?: unknown }).ecommerce : value
}

/** Equal as sent and as read back: decimals by value ("16.2" = "16.20"), empty text as null, lists element-wise. */
function sameValue(read: unknown, sent: unknown): boolean {
  if (Array.isArray(sent)) {
    return (
      Array.isArray(read) &&
      read.length === sent.length &&
      sent.every((item, index) => JSON.stringify(item) === JSON.stringify(read[index]))
    )
  }
  const a = blankToNull(read)
  const b = blankToNull(sent)
  if (a === null || b === null) return a === b
  if (typeof a === 'object' || typeof b === 'object') return false
  if (String(a) === String(b)) return true
  const numbers = [Number(a), Number(b)]
  return typeof a !== 'boolean' && numbers.every(Number.isFinite) && numbers[0] === numbers[1]
}

function blankToNull(value: unknown): unknown {
  return value === undefined || value === '' ? null : value
}
