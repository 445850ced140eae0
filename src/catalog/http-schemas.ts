import { z } from 'zod'

/** Response and request schemas of the catalog routes (OpenAPI; the responses are precomputed documents). */

const amount = z.string().describe('Decimal amount in the store currency ("31.96"; JPY "3200")')

export const catalogPlanSchema = z.object({
  id: z.number().int(),
  title: z.string(),
  type: z.enum(['subscription', 'prepaid', 'onetime']),
  sort_order: z.number().int(),
  discount_amount: z.string().nullable(),
  discount_type: z.enum(['percentage', 'fixed_amount']).nullable(),
  interval_unit: z.enum(['day', 'week', 'month']).nullable(),
  charge_interval_frequency: z.number().int().nullable(),
  order_interval_frequency: z.number().int().nullable(),
  external_plan_id: z.string().nullable(),
  external_plan_name: z.string().nullable(),
})

export const catalogVariantSchema = z.object({
  external_variant_id: z.string(),
  title: z.string(),
  option_values: z.array(z.string()),
  prices: z.array(
    z.object({
      currency: z.string(),
      unit_price: amount,
      compare_at_price: amount.nullable(),
      plans: z.array(z.object({ id: z.number().int(), discounted_price: amount, discount_value: amount })),
    }),
  ),
})

export const catalogProductSchema = z.object({
  external_product_id: z.string(),
  title: z.string(),
  description: z.string().nullable(),
  image: z.string().nullable(),
  plans: z.array(catalogPlanSchema),
  variants: z.array(catalogVariantSchema),
  updated_at: z.string(),
})

export const productDocumentSchema = z
  .object({ product: catalogProductSchema, meta: z.object({ version: z.string() }) })
  .describe('One product in the shape of the Recharge CDN product JSON (2021-08)')

export const productPageSchema = z
  .object({
    products: z.array(catalogProductSchema),
    next_cursor: z.string().nullable(),
    previous_cursor: z.string().nullable(),
  })
  .describe('A page of products; pass next_cursor back as ?cursor= for the next page')

export const settingsSchema = z.object({
  currency: z.string(),
  currency_decimals: z.number().int(),
  store_name: z.string(),
  widget: z.record(z.string(), z.unknown()),
})

export const pageQuerySchema = z.object({
  cursor: z.string().max(2048).optional().describe('Opaque cursor from a previous page'),
  limit: z.coerce.number().int().min(1).max(100).default(50).describe('Products per page (≤ 100)'),
})

export const productParamsSchema = z.object({
  externalProductId: z.string().min(1).max(255),
})

export const syncRequestSchema = z
  .object({
    feed: z.unknown().optional().describe('The catalog feed (schemas/catalog-feed.schema.json)'),
    feed_url: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('Or: an http(s) URL the server fetches the feed from'),
    dry_run: z.boolean().default(false).describe('Plan only: read and diff, write nothing'),
    delete_missing: z.boolean().default(true).describe('Delete Recharge products the feed does not list'),
    allow_mass_delete: z
      .boolean()
      .default(false)
      .describe('Allow a run to delete more than a quarter of the store’s products (refused otherwise)'),
    plan_strategy: z
      .enum(['auto', 'bulk', 'batch'])
      .default('auto')
      .describe('Plan writes: plans-bulk, async batches, or pick by cost'),
  })
  .strict()
  .refine((body) => (body.feed === undefined) !== (body.feed_url === undefined), {
    message: 'give exactly one of feed and feed_url',
    path: ['feed'],
  })

const progressSchema = z.object({
  phase: z.enum(['queued', 'validating', 'reading', 'planning', 'writing', 'batch', 'done']),
  totalWrites: z.number(),
  writes: z.number(),
  reads: z.number(),
  productsDone: z.number(),
  productsToChange: z.number(),
  etaSeconds: z.number().nullable(),
})

const totalsSchema = z.object({
  productCreates: z.number(),
  productUpdates: z.number(),
  productDeletes: z.number(),
  planCreates: z.number(),
  planUpdates: z.number(),
  planDeletes: z.number(),
})

const modeSchema = z.enum(['bulk', 'batch', 'none'])

export const syncReportSchema = z.object({
  jobId: z.string(),
  dryRun: z.boolean(),
  resumed: z.boolean(),
  feedProducts: z.number(),
  unchanged: z.number(),
  totals: totalsSchema,
  changedItems: z.number(),
  strategy: z.object({ planCreates: modeSchema, planUpdates: modeSchema, planDeletes: modeSchema }),
  calls: z.object({ reads: z.number(), writes: z.number(), total: z.number() }),
  callsPerChangedItem: z.number().nullable(),
  durationMs: z.number(),
  floorMs: z.number().describe('calls ÷ leak rate, in ms: the least time the rate limit allows'),
  floorRatio: z.number().nullable().describe('durationMs ÷ floorMs'),
  errors: z.array(
    z.object({
      external_product_id: z.string().nullable(),
      operation: z.string(),
      code: z.string(),
      message: z.string(),
    }),
  ),
  plan: z
    .array(
      z.object({
        external_product_id: z.string(),
        product: z.enum(['create', 'update', 'delete', 'keep']),
        fields: z.array(z.string()),
        plans: z.object({
          create: z.array(z.string()),
          update: z.array(z.object({ key: z.string(), fields: z.array(z.string()) })),
          delete: z.array(z.object({ key: z.string(), reason: z.string() })),
        }),
      }),
    )
    .optional()
    .describe('Dry run: the planned changes (first 1,000 products)'),
})

export const syncJobSchema = z.object({
  id: z.string(),
  state: z.enum(['running', 'succeeded', 'partial', 'failed', 'cancelled', 'invalid']),
  dryRun: z.boolean(),
  source: z.enum(['api', 'cli']),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  progress: progressSchema,
  report: syncReportSchema.nullable(),
  issues: z
    .array(
      z.object({
        index: z.number().nullable(),
        external_product_id: z.string().nullable(),
        path: z.string(),
        message: z.string(),
      }),
    )
    .nullable(),
  error: z.string().nullable(),
})

export const syncJobEnvelope = z.object({ job: syncJobSchema })
export const syncJobParamsSchema = z.object({ id: z.uuid() })
