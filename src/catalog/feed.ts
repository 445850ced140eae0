import { z } from 'zod'
import { decimalsOf, isCurrencyCode, minorUnits } from '../infra/money.ts'

/**
 * The merchant catalog feed: the input of `recharge-bridge catalog sync` and `POST /v1/admin/catalog/sync`. The JSON
 * Schema in schemas/catalog-feed.schema.json is generated from this zod schema (`npm run catalog:schema`); a test
 * keeps them equal. Money is a decimal string (or number) in the store currency; ids are strings (or numbers).
 */

const identifier = z
  .union([z.string().trim().min(1).max(255), z.number().int().nonnegative()])
  .transform(String)
  .describe('An id of your platform (string or integer)')

const amount = z
  .union([
    z.string().regex(/^\s*\d+(\.\d+)?\s*$/, 'must be a non-negative decimal amount such as "19.99"'),
    z.number().nonnegative(),
  ])
  .transform((value) => (typeof value === 'number' ? String(value) : value.trim()))
  .refine((value) => /^\d+(\.\d+)?$/.test(value), 'must be a non-negative decimal amount such as "19.99"')
  .describe('A non-negative decimal amount in the store currency, e.g. "19.99" (JPY: "3200")')

const intervalUnit = z.enum(['day', 'week', 'month']).describe('Unit of the delivery and charge intervals')

const intervals = z
  .array(z.number().int().min(1).max(365))
  .min(1)
  .max(24)
  .refine((values) => new Set(values).size === values.length, 'intervals must not repeat')
  .describe('Delivery intervals offered, in interval units (e.g. [1, 2, 4] weeks): one plan per interval')

const discount = z
  .object({
    type: z.enum(['percentage', 'fixed_amount']),
    amount: amount,
  })
  .strict()
  .refine((value) => value.type !== 'percentage' || Number(value.amount) <= 100, {
    message: 'a percentage discount must be at most 100',
    path: ['amount'],
  })
  .nullable()
  .optional()
  .describe('Subscribe-and-save discount applied to every plan of the offer')

const subscriptionOffer = z
  .object({
    type: z.literal('subscription'),
    interval_unit: intervalUnit,
    intervals,
    discount,
  })
  .strict()
  .describe('Pay and deliver every N units')

const prepaidOffer = z
  .object({
    type: z.literal('prepaid'),
    interval_unit: intervalUnit,
    intervals,
    deliveries_per_charge: z.number().int().min(2).max(52).describe('Deliveries paid for up front with each charge'),
    discount,
  })
  .strict()
  .describe('Deliver every N units, charge for several deliveries at once')

const onetimeOffer = z
  .object({ type: z.literal('onetime'), discount })
  .strict()
  .describe('A one-time purchase option managed by Recharge')

export const feedOfferSchema = z.discriminatedUnion('type', [subscriptionOffer, prepaidOffer, onetimeOffer])

export const feedVariantSchema = z
  .object({
    external_variant_id: identifier,
    title: z.string().trim().min(1).max(255),
    options: z.array(z.string().trim().min(1).max(255)).max(3).default([]).describe('Option values, e.g. ["Small"]'),
    price: amount,
    compare_at_price: amount.nullable().optional(),
    sku: z.string().max(255).nullable().optional(),
  })
  .strict()

export const feedProductSchema = z
  .object({
    external_product_id: identifier,
    title: z.string().trim().min(1).max(255),
    description: z.string().max(65_535).nullable().optional(),
    image: z
      .string()
      .max(2048)
      .regex(/^https?:\/\/[^\s/]+\S*$/i, 'must be an http(s) URL')
      .nullable()
      .optional()
      .describe('http(s) URL of the main product image'),
    vendor: z.string().max(255).nullable().optional(),
    options: z.array(z.string().trim().min(1).max(255)).max(3).default([]).describe('Option names, e.g. ["Size"]'),
    variants: z.array(feedVariantSchema).min(1).max(100),
    offers: z.array(feedOfferSchema).max(20).default([]).describe('Subscription offers; none = not subscribable'),
  })
  .strict()

export const catalogFeedSchema = z
  .object({
    $schema: z.string().optional(),
    version: z.literal(1).describe('Feed format version'),
    currency: z
      .string()
      .regex(/^[A-Za-z]{3}$/, 'must be an ISO 4217 currency code such as "USD"')
      .refine(isCurrencyCode, 'must be an ISO 4217 currency code such as "USD"')
      .transform((value) => value.toUpperCase())
      .optional()
      .describe("The store currency the prices are in; checked against the Recharge store's currency"),
    products: z.array(feedProductSchema).max(100_000),
  })
  .strict()
  .describe('recharge-bridge catalog feed: the products, variants and subscription offers to keep in Recharge')

export type CatalogFeed = z.infer<typeof catalogFeedSchema>
export type FeedProduct = z.infer<typeof feedProductSchema>
export type FeedVariant = z.infer<typeof feedVariantSchema>
export type FeedOffer = z.infer<typeof feedOfferSchema>

/** One precise problem of a feed: which product, where in it, what is wrong. */
export interface FeedIssue {
  /** Index of the product in `products`, or null for feed-level problems. */
  index: number | null
  /** The product's external_product_id when it is readable. */
  external_product_id: string | null
  /** JSON path into the feed: `products[3].variants[0].price`. */
  path: string
  message: string
}

export type FeedValidation = { ok: true; feed: CatalogFeed } | { ok: false; issues: FeedIssue[] }

function pathString(path: readonly PropertyKey[]): string {
  let text = ''
  for (const segment of path)
    text += typeof segment === 'number' ? `[${segment}]` : `${text ? '.' : ''}${String(segment)}`
  return text || '(root)'
}

function rawProductId(input: unknown, index: number): string | null {
  if (!input || typeof input !== 'object' || !('products' in input) || !Array.isArray(input.products)) return null
  const product: unknown = input.products[index]
  if (!product || typeof product !== 'object' || !('external_product_id' in product)) return null
  const value = product.external_product_id
  return typeof value === 'string' || typeof value === 'number' ? String(value) : null
}

function issueAt(input: unknown, path: readonly PropertyKey[], message: string): FeedIssue {
  const index = path[0] === 'products' && typeof path[1] === 'number' ? path[1] : null
  return {
    index,
    external_product_id: index === null ? null : rawProductId(input, index),
    path: pathString(path),
    message,
  }
}

/** Plan identity within a product: two offers may not produce the same plan. */
export function offerPlanKeys(offer: FeedOffer): string[] {
  if (offer.type === 'onetime') return ['onetime']
  const deliveries = offer.type === 'prepaid' ? offer.deliveries_per_charge : 1
  return offer.intervals.map((n) => `${offer.type}:${offer.interval_unit}:${n}:${n * deliveries}`)
}

/** Checks the schema cannot express: uniqueness, option arity, currency precision. */
function crossCheck(feed: CatalogFeed, input: unknown, currency: string | undefined): FeedIssue[] {
  const issues: FeedIssue[] = []
  const seenProducts = new Map<string, number>()
  const decimals = currency ? minorUnits(currency) : undefined
  feed.products.forEach((product, index) => {
    const at = (path: PropertyKey[], message: string) =>
      issues.push(issueAt(input, ['products', index, ...path], message))
    const first = seenProducts.get(product.external_product_id)
    if (first !== undefined) at(['external_product_id'], `duplicates products[${first}].external_product_id`)
    else seenProducts.set(product.external_product_id, index)

    const seenVariants = new Map<string, number>()
    product.variants.forEach((variant, v) => {
      const earlier = seenVariants.get(variant.external_variant_id)
      if (earlier !== undefined) at(['variants', v, 'external_variant_id'], `duplicates variants[${earlier}]`)
      else seenVariants.set(variant.external_variant_id, v)
      if (product.options.length > 0 && variant.options.length !== product.options.length) {
        at(['variants', v, 'options'], `has ${variant.options.length} values for ${product.options.length} options`)
      }
      if (decimals !== undefined) {
        if (decimalsOf(variant.price) > decimals) {
          at(['variants', v, 'price'], `has more than ${decimals} decimals, the minor units of ${currency}`)
        }
        if (variant.compare_at_price && decimalsOf(variant.compare_at_price) > decimals) {
          at(['variants', v, 'compare_at_price'], `has more than ${decimals} decimals, the minor units of ${currency}`)
        }
      }
    })

    const seenPlans = new Map<string, number>()
    product.offers.forEach((offer, o) => {
      for (const key of offerPlanKeys(offer)) {
        const earlier = seenPlans.get(key)
        if (earlier !== undefined) at(['offers', o], `offers the same plan (${key}) as offers[${earlier}]`)
        else seenPlans.set(key, o)
      }
      if (
        decimals !== undefined &&
        offer.discount?.type === 'fixed_amount' &&
        decimalsOf(offer.discount.amount) > decimals
      ) {
        at(['offers', o, 'discount', 'amount'], `has more than ${decimals} decimals, the minor units of ${currency}`)
      }
    })
  })
  return issues
}

/**
 * Validate a feed. Every problem is reported (not just the first), each with the product index, its
 * external_product_id and the exact path. `storeCurrency`, when known, must agree with the feed's `currency` and
 * bounds the decimals of every price.
 */
export function validateFeed(input: unknown, storeCurrency?: string): FeedValidation {
  const parsed = catalogFeedSchema.safeParse(input)
  if (!parsed.success) {
    return { ok: false, issues: parsed.error.issues.map((issue) => issueAt(input, issue.path, issue.message)) }
  }
  const feed = parsed.data
  const issues: FeedIssue[] = []
  if (storeCurrency && feed.currency && feed.currency !== storeCurrency.toUpperCase()) {
    issues.push({
      index: null,
      external_product_id: null,
      path: 'currency',
      message: `is ${feed.currency} but the Recharge store sells in ${storeCurrency.toUpperCase()}`,
    })
  }
  issues.push(...crossCheck(feed, input, storeCurrency ?? feed.currency))
  return issues.length > 0 ? { ok: false, issues } : { ok: true, feed }
}

/** The JSON Schema of the feed (draft 2020-12), as committed in schemas/catalog-feed.schema.json. */
export function feedJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(catalogFeedSchema, { io: 'input', target: 'draft-2020-12' }),
    $id: 'https://recharge-bridge.dev/schemas/catalog-feed.schema.json',
    title: 'recharge-bridge catalog feed',
  }
}
