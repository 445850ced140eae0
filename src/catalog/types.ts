/**
 * The storefront catalog view, in the shape of Recharge's CDN product JSON (2021-08), built from the Recharge
 * products and plans APIs. Money is always a decimal string in the store currency ("31.96", or "3200" for JPY).
 * Decorated on the app as `app.catalog` (src/catalog), used by the catalog routes and by checkout pricing.
 */
export interface CatalogPlan {
  id: number
  title: string
  type: 'subscription' | 'prepaid' | 'onetime'
  sort_order: number
  discount_amount: string | null
  discount_type: 'percentage' | 'fixed_amount' | null
  interval_unit: 'day' | 'week' | 'month' | null
  charge_interval_frequency: number | null
  order_interval_frequency: number | null
  external_plan_id: string | null
  external_plan_name: string | null
}

export interface CatalogPlanPrice {
  id: number
  discounted_price: string
  discount_value: string
}

export interface CatalogVariantPrice {
  currency: string
  unit_price: string
  compare_at_price: string | null
  plans: CatalogPlanPrice[]
}

export interface CatalogVariant {
  external_variant_id: string
  title: string
  option_values: string[]
  prices: CatalogVariantPrice[]
}

export interface CatalogProduct {
  external_product_id: string
  title: string
  description: string | null
  image: string | null
  plans: CatalogPlan[]
  variants: CatalogVariant[]
  updated_at: string
}

export interface CatalogSettings {
  currency: string
  currency_decimals: number
  store_name: string
  widget: Record<string, unknown>
}

export interface CatalogPage {
  products: CatalogProduct[]
  next_cursor: string | null
  previous_cursor: string | null
}

export interface CatalogService {
  /** null when Recharge has no such product. Cached; `options.deadlineMs` bounds a miss. */
  getProduct(externalProductId: string, options?: { deadlineMs?: number }): Promise<CatalogProduct | null>
  /** Whether the store's product index names this product: no upstream call beyond the (shared, cached) index. */
  hasProduct(externalProductId: string, options?: { deadlineMs?: number }): Promise<boolean>
  listProducts(page: { cursor?: string; limit?: number }): Promise<CatalogPage>
  getSettings(): Promise<CatalogSettings>
}

/** A response body serialised once when cached, with its strong ETag computed at the same time. */
export interface CatalogDocument {
  /** Quoted strong ETag: `"<base64url sha-256 of body>"`. */
  etag: string
  /** The JSON response body, sent as is. */
  body: string
}

export interface CatalogDocumentResult extends CatalogDocument {
  /** The cache's answer for the entry (`X-Cache`). */
  state: 'HIT' | 'MISS' | 'STALE'
  ageMs: number
}

/**
 * What the catalog routes use: the same data as `CatalogService`, as precomputed documents, so a cache hit is sent
 * without re-serialising or re-hashing.
 */
export interface CatalogDocuments {
  /** `{"product": CatalogProduct, "meta": {"version": "2021-08"}}`, or null when Recharge has no such product. */
  productDocument(externalProductId: string, options?: { deadlineMs?: number }): Promise<CatalogDocumentResult | null>
  /**
   * The product document when this replica holds it fresh in memory (an L1 hit needing no Redis), else undefined:
   * then `productDocument` has the answer. Synchronous, for the fast read of the product route.
   */
  freshProductDocument(externalProductId: string): CatalogDocumentResult | undefined
  /** `CatalogPage` as a document; `cursor` is one of ours (opaque), an invalid one throws VALIDATION_FAILED. */
  pageDocument(page: { cursor?: string; limit?: number }): Promise<CatalogDocumentResult>
  /** `CatalogSettings` as a document. */
  settingsDocument(): Promise<CatalogDocumentResult>
}

/** Cache tags the catalog's entries carry; webhooks invalidate through them. */
export const catalogTags = {
  product: (externalProductId: string) => `product:${externalProductId}`,
  catalog: 'catalog',
  store: 'store',
} as const
