import { z } from 'zod'
import { externalId, integer, jsonText, listOf, money, nullish, timestamp } from './lenient.ts'

/**
 * Recharge 2021-11 Products (Custom/PIM integrations; keyed by `external_product_id`). Parsed leniently: only the
 * fields the catalog view and the sync diff read are listed (any other key is dropped unread, whatever its type),
 * optional parts default to empty, money arrives as strings or numbers.
 */

/** `external_product_id` is a plain string on products and `{ecommerce: "…"}` on plans and line items. */
export const externalProductRef = z
  .union([externalId, z.object({ ecommerce: externalId }).transform((value) => value.ecommerce)])
  .transform(String)

export const productImageSchema = z.object({
  original: nullish(z.string()),
  large: nullish(z.string()),
  medium: nullish(z.string()),
  small: nullish(z.string()),
  sort_order: nullish(integer),
})

/** Option values arrive as `{label}` objects (2021-11) or bare strings (older shapes). */
const optionValue = z
  .union([z.string(), z.object({ label: z.union([z.string(), z.number()]) })])
  .transform((value) => (typeof value === 'string' ? value : String(value.label)))

export const productOptionSchema = z.object({
  name: z.string(),
  position: nullish(integer),
  values: listOf(optionValue),
})

export const productVariantSchema = z.object({
  external_variant_id: externalId,
  title: nullish(z.string()).transform((value) => value ?? ''),
  sku: nullish(z.string()),
  option_values: listOf(optionValue),
  prices: jsonText(z.object({ unit_price: nullish(money), compare_at_price: nullish(money) }).nullish()).transform(
    (prices) => ({
      unit_price: prices?.unit_price ?? null,
      compare_at_price: prices?.compare_at_price ?? null,
    }),
  ),
})

export const productSchema = z.object({
  external_product_id: externalProductRef,
  title: z.string(),
  description: nullish(z.string()),
  vendor: nullish(z.string()),
  images: listOf(productImageSchema),
  options: listOf(productOptionSchema),
  variants: listOf(productVariantSchema),
  updated_at: nullish(timestamp),
})

export type RechargeProduct = z.infer<typeof productSchema>

export const productEnvelope = z.object({ product: productSchema }).transform((body) => body.product)

/** Cursor list: `next_cursor`/`previous_cursor` null, absent or "" all mean "no more". */
const cursor = z
  .string()
  .nullish()
  .transform((value) => (value ? value : null))

export const productListEnvelope = z.object({
  products: z.array(productSchema),
  next_cursor: cursor,
  previous_cursor: cursor,
})

export type RechargeProductPage = z.infer<typeof productListEnvelope>

/** What we send on create/update (PUT takes the same shape; absent keys are left unchanged upstream). */
export interface ProductWriteBody {
  external_product_id: string
  title: string
  description?: string | null
  brand?: string | null
  vendor?: string | null
  images?: { original: string; sort_order?: number }[]
  options?: { name: string; position: number; values: { label: string; position: number }[] }[]
  variants?: {
    external_variant_id: string
    title: string
    sku?: string | null
    option_values: { label: string }[]
    prices: { unit_price: string; compare_at_price: string | null }
  }[]
  requires_shipping?: boolean
}

export const listCursor = cursor
