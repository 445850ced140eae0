import { createHash } from 'node:crypto'
import type { Allowance, AllowanceDecision, AllowanceStore } from './allowance.ts'

/**
 * The store's Recharge bucket (RECHARGE_BUCKET_SIZE calls, leaking RECHARGE_LEAK_RATE a second, shared by every
 * replica) is an asset anyone on the internet can try to spend. Who may spend how much of it:
 *
 * - anonymous traffic (catalog reads, checkout creation), all clients together: at most PUBLIC_BUDGET_SHARE of the
 *   bucket, i.e. `floor(size × share)` calls at once refilling at `rate × share` a second. The rest of the bucket is
 *   always left to signed-in shoppers and the store's own work, whatever anonymous clients send;
 * - one anonymous client (by address, TRUST_PROXY decides which): PUBLIC_CLIENT_CALLS_PER_MINUTE calls at once,
 *   refilling at that many a minute, so one client cannot take the whole public share either;
 * - one signed-in shopper: the re-reads their unknown ids trigger (ownership checks) cost at most
 *   SHOPPER_REREADS_PER_MINUTE calls at once, refilling at that many a minute. Their other reads are list reads
 *   bounded by the cache (one per list per TTL) and their writes by the per-shopper write limit.
 *
 * Only calls that would reach Recharge are charged: cache hits, made-up product ids (answered from the product
 * index), made-up cursors (not signed by us) and foreign record ids never reach this point.
 */

export interface BudgetSettings {
  bucketSize: number
  leakRate: number
  /** Share of the bucket all anonymous traffic together may spend (0 < share ≤ 1). */
  publicShare: number
  /** Calls one anonymous client may cause, at once and per minute. */
  publicClientCallsPerMinute: number
  /** Calls one shopper's ownership re-reads may cost, at once and per minute. */
  shopperRereadsPerMinute: number
}

export const DEFAULT_BUDGET = {
  publicShare: 0.25,
  publicClientCallsPerMinute: 20,
  shopperRereadsPerMinute: 6,
} as const

/** The allowances' sizes as numbers (docs, readiness, tests). */
export interface BudgetLimits {
  public: { burst: number; perSecond: number }
  client: { burst: number; perMinute: number }
  shopper: { burst: number; perMinute: number }
}

export function budgetLimits(settings: BudgetSettings): BudgetLimits {
  return {
    public: {
      burst: Math.max(1, Math.floor(settings.bucketSize * settings.publicShare)),
      perSecond: settings.leakRate * settings.publicShare,
    },
    client: { burst: settings.publicClientCallsPerMinute, perMinute: settings.publicClientCallsPerMinute },
    shopper: { burst: settings.shopperRereadsPerMinute, perMinute: settings.shopperRereadsPerMinute },
  }
}

/** Why an anonymous call was refused: its client's own allowance, or the public share of the bucket. */
export type PublicRefusal = { ok: false; retryAfterMs: number; by: 'client' | 'public-share' }

function shortHash(value: string): string {
  // Client addresses are personal data: key names carry a hash of them.
  return createHash('sha256').update(value).digest('base64url').slice(0, 22)
}

export class UpstreamBudget {
  readonly limits: BudgetLimits
  private readonly store: AllowanceStore
  private readonly prefix: string
  private readonly publicShare: Allowance

  /** `keyPrefix` carries the store's hash tag (`rb:{<token fingerprint>}`): every allowance lives in one slot. */
  constructor(options: { store: AllowanceStore; keyPrefix: string; settings: BudgetSettings }) {
    this.store = options.store
    this.prefix = `${options.keyPrefix}:budget`
    this.limits = budgetLimits(options.settings)
    this.publicShare = {
      key: `${this.prefix}:public`,
      burst: this.limits.public.burst,
      intervalMs: 1000 / this.limits.public.perSecond,
    }
  }

  /** Charge one anonymous call to its client (unless null) and to the public share: both or neither. */
  async chargePublic(client: string | null, cost = 1): Promise<{ ok: true } | PublicRefusal> {
    const allowances: Allowance[] = [this.publicShare]
    if (client !== null) {
      allowances.unshift({
        key: `${this.prefix}:client:${shortHash(client)}`,
        burst: this.limits.client.burst,
        intervalMs: 60_000 / this.limits.client.perMinute,
      })
    }
    const decision: AllowanceDecision = await this.store.take(allowances, cost)
    if (decision.ok) return decision
    const byClient = client !== null && decision.refusedBy === 0
    return { ok: false, retryAfterMs: decision.retryAfterMs, by: byClient ? 'client' : 'public-share' }
  }

  /** May this shopper's ownership re-read spend `cost` calls now? (Taken when true.) */
  async chargeShopperReread(customerId: string, cost: number): Promise<boolean> {
    const own: Allowance = {
      key: `${this.prefix}:shopper:${customerId}`,
      burst: this.limits.shopper.burst,
      intervalMs: 60_000 / this.limits.shopper.perMinute,
    }
    return (await this.store.take([own], cost)).ok
  }
}
