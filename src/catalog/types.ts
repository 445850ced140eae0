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
  listProducts(page: { cursor?: string; limit?: number }): Promise<CatalogPage>
  getSettings(): Promise<CatalogSettings>
}
