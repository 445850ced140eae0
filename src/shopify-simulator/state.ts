import { randomBytes } from 'node:crypto'
import type { ResolvedShopifyOptions } from './options.ts'
import { type ShopifyShopper, seedShoppers } from './seed.ts'

/** The two kinds of shopper access token a storefront holds. */
export type TokenApi = 'customer_account' | 'storefront'
/** The answering surfaces of the stand-in, as fault rules and the ledger name them. */
export type ShopifyApi = 'discovery' | TokenApi

export interface IssuedToken {
  api: TokenApi
  customerId: string
  /** The shop the token was issued by; another shop's token is unknown here. */
  shop: string
  expiresAt: number
  revoked: boolean
}

/**
 * Fault rules (`POST /__sim/faults`), first match wins: `latencyMs` waits, then `hang` never answers, or `status`
 * answers that status with a Shopify-shaped error. `count` limits how many requests a rule hits.
 */
export interface ShopifyFaultRule {
  api?: ShopifyApi
  status?: number
  latencyMs?: number
  hang?: boolean
  count?: number
}

/** One request to a Shopify API of the stand-in (the control API is not recorded); never a token. */
export interface ShopifyLedgerEntry {
  api: ShopifyApi
  method: string
  path: string
  status: number | null
  at: string
}

const MAX_LEDGER = 10_000

export class ShopifyState {
  readonly options: ResolvedShopifyOptions
  shoppers = new Map<string, ShopifyShopper>()
  tokens = new Map<string, IssuedToken>()
  faults: (ShopifyFaultRule & { remaining: number })[] = []
  ledger: ShopifyLedgerEntry[] = []

  constructor(options: ResolvedShopifyOptions) {
    this.options = options
    this.reset()
  }

  reset(): void {
    this.shoppers = new Map(seedShoppers().map((shopper) => [shopper.id, shopper]))
    this.tokens.clear()
    this.faults = []
    this.ledger = []
  }

  shopperBy(reference: { customerId?: string; email?: string }): ShopifyShopper | undefined {
    if (reference.customerId) return this.shoppers.get(reference.customerId)
    const email = reference.email?.toLowerCase()
    return [...this.shoppers.values()].find((shopper) => shopper.email === email)
  }

  issue(api: TokenApi, customerId: string, options: { lifetimeS?: number; shop?: string } = {}) {
    const secret = randomBytes(24).toString('hex')
    const accessToken = api === 'customer_account' ? `shcat_${secret}` : secret
    const expiresAt = Date.now() + (options.lifetimeS ?? this.options.tokenLifetimeS) * 1000
    this.tokens.set(accessToken, {
      api,
      customerId,
      shop: options.shop ?? this.options.shopDomain,
      expiresAt,
      revoked: false,
    })
    return { accessToken, expiresAt: new Date(expiresAt) }
  }

  /** The shopper a token stands for on this shop now, or undefined (unknown, other shop, expired or revoked). */
  holder(api: TokenApi, accessToken: string): ShopifyShopper | undefined {
    const token = this.tokens.get(accessToken)
    if (!token || token.api !== api || token.revoked || token.shop !== this.options.shopDomain) return undefined
    if (Date.now() >= token.expiresAt) return undefined
    return this.shoppers.get(token.customerId)
  }

  takeFault(api: ShopifyApi): ShopifyFaultRule | undefined {
    const index = this.faults.findIndex((rule) => rule.api === undefined || rule.api === api)
    if (index < 0) return undefined
    const rule = this.faults[index] as ShopifyFaultRule & { remaining: number }
    rule.remaining -= 1
    if (rule.remaining <= 0) this.faults.splice(index, 1)
    return rule
  }

  record(entry: ShopifyLedgerEntry): ShopifyLedgerEntry {
    if (this.ledger.length >= MAX_LEDGER) this.ledger.splice(0, MAX_LEDGER / 10)
    this.ledger.push(entry)
    return entry
  }
}
