/**
 * Recharge webhook topics (2021-11), which of them the bridge subscribes to, and how a delivery's topic is resolved.
 *
 * Recharge documents no topic header, so we register one URL per topic (`…/v1/webhooks/recharge?topic=<topic>`) and
 * take the resource from the payload's single top-level key (`{"subscription": {…}}`), which every payload has. An
 * `X-Recharge-Topic` header, sent by some setups, is used only when the URL carries no topic.
 */

/** Every topic the bridge registers: the ones whose data it caches. */
export const NEEDED_TOPICS = [
  'subscription/created',
  'subscription/updated',
  'subscription/activated',
  'subscription/cancelled',
  'subscription/deleted',
  'subscription/skipped',
  'subscription/unskipped',
  'subscription/swapped',
  'subscription/paused',
  'charge/created',
  'charge/updated',
  'charge/paid',
  'charge/failed',
  'charge/refunded',
  'charge/deleted',
  'charge/max_retries_reached',
  'order/created',
  'order/updated',
  'order/processed',
  'order/deleted',
  'address/created',
  'address/updated',
  'customer/created',
  'customer/updated',
  'customer/activated',
  'customer/deactivated',
  'customer/deleted',
  'customer/payment_method_updated',
  'onetime/created',
  'onetime/updated',
  'onetime/deleted',
  'plan/created',
  'plan/updated',
  'plan/deleted',
  'store/updated',
] as const

export type NeededTopic = (typeof NEEDED_TOPICS)[number]

/** Resources whose payloads we understand; anything else is acknowledged and only forwarded. */
export const KNOWN_RESOURCES = [
  'subscription',
  'charge',
  'order',
  'address',
  'customer',
  'onetime',
  'plan',
  'product',
  'store',
  'bundle_selection',
  'checkout',
  'gift_purchase',
  'async_batch',
] as const

/** `family/action` with lower-case letters and underscores only; anything else in a URL or header is ignored. */
const TOPIC_PATTERN = /^[a-z_]{1,40}\/[a-z_]{1,60}$/

export function isTopic(value: unknown): value is string {
  return typeof value === 'string' && TOPIC_PATTERN.test(value)
}

export interface ResolvedTopic {
  /** `subscription/updated`, or `<resource>/unknown` when neither the URL nor a header named it. */
  topic: string
  /** The payload's top-level key: what the data is. */
  resource: string
  /** True when the named topic's family disagrees with the payload key (logged; the payload key wins for data). */
  mismatch: boolean
}

/**
 * The payload's resource key: the single top-level key whose value is an object. Enriched payloads
 * (`included_objects`) nest extras inside the resource, so the top level still has one object key; if there are
 * several, a known resource name wins.
 */
export function payloadResource(payload: unknown): string | null {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return null
  const keys = Object.keys(payload).filter((key) => {
    const value = (payload as Record<string, unknown>)[key]
    return typeof value === 'object' && value !== null && !Array.isArray(value)
  })
  const known = keys.find((key) => (KNOWN_RESOURCES as readonly string[]).includes(key))
  return known ?? keys[0] ?? null
}

/** Resolve what a delivery is about. Returns null when the payload has no resource object at all. */
export function resolveTopic(
  payload: unknown,
  urlTopic: string | undefined,
  headerTopic: string | undefined,
): ResolvedTopic | null {
  const resource = payloadResource(payload)
  if (!resource) return null
  const named = isTopic(urlTopic) ? urlTopic : isTopic(headerTopic) ? headerTopic : undefined
  if (!named) return { topic: `${resource}/unknown`, resource, mismatch: false }
  const family = named.slice(0, named.indexOf('/'))
  // app/uninstalled and recharge/uninstalled carry no fixed resource key; do not call them mismatched.
  const mismatch = family !== resource && (KNOWN_RESOURCES as readonly string[]).includes(family)
  return { topic: named, resource, mismatch }
}
