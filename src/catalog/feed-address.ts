import { lookup as dnsLookup } from 'node:dns/promises'
import type { LookupFunction } from 'node:net'
import ipaddr from 'ipaddr.js'
import { Agent } from 'undici'

/**
 * Where a catalog feed may be fetched from. A feed URL is chosen by whoever holds the admin key; without a guard it
 * reaches the bridge's own network (loopback, cloud metadata at 169.254.169.254, private services). Addresses are
 * judged after DNS resolution, by ipaddr.js's range classification: only `unicast` (no special range) is public.
 * The connection then uses exactly the address that was judged (the check is the socket's own lookup), so a name
 * that resolves differently a second time (DNS rebinding) cannot swap it.
 */

/** Resolves a host name to every address it has (the default is the system resolver, as sockets use). */
export type HostResolver = (hostname: string) => Promise<{ address: string; family: number }[]>

export interface FeedAddressPolicy {
  /** Let loopback, private and other special addresses through (a feed on the internal network, a local simulator). */
  allowPrivate: boolean
  resolver?: HostResolver
  /** Which addresses count as allowed; isPublicAddress unless a test stands a loopback address in for a public one. */
  isAllowed?: (address: string) => boolean
}

const systemResolver: HostResolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true })

/** True for an address in no special range: not loopback, private, link-local, unique-local, multicast, unspecified… */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false
  // process() turns an IPv4-mapped IPv6 address (::ffff:127.0.0.1) into the IPv4 address it carries.
  return ipaddr.process(address).range() === 'unicast'
}

/** The host of a URL as an IP address when it is a literal (sockets skip the lookup for those), else null. */
export function literalAddress(url: URL): string | null {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  return ipaddr.isValid(host) ? host : null
}

export class RefusedAddressError extends Error {
  constructor() {
    super('The feed host resolves to an address that is not allowed')
    this.name = 'RefusedAddressError'
  }
}

/** A socket lookup that refuses the whole host if any of its addresses is not allowed. */
function guardedLookup(policy: FeedAddressPolicy): LookupFunction {
  const resolve = policy.resolver ?? systemResolver
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (records) => {
        const wanted = options.family === 4 || options.family === 6 ? options.family : 0
        const usable = records.filter((record) => wanted === 0 || record.family === wanted)
        if (usable.length === 0) {
          callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0)
          return
        }
        const allowed = policy.isAllowed ?? isPublicAddress
        if (!policy.allowPrivate && records.some((record) => !allowed(record.address))) {
          callback(new RefusedAddressError(), '', 0)
          return
        }
        if (options.all) {
          ;(callback as unknown as (error: null, addresses: typeof usable) => void)(null, usable)
          return
        }
        const first = usable[0] as { address: string; family: number }
        callback(null, first.address, first.family)
      },
      (error: Error) => callback(error as NodeJS.ErrnoException, '', 0),
    )
  }
}

/** An undici dispatcher whose every connection is pinned to an address the policy allows. */
export function feedDispatcher(policy: FeedAddressPolicy): Agent {
  return new Agent({ connect: { lookup: guardedLookup(policy) }, connections: 2 })
}
