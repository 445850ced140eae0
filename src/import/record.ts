import { z } from 'zod'

/**
 * One import record: an order paid outside Recharge (a merchant's own checkout, or a subscriber moved from another
 * platform) that becomes a Recharge customer, payment method, address and one subscription per line. The JSON Schema
 * in schemas/import-record.schema.json is generated from this (`recharge-bridge import --schema`); docs/import.md explains each field.
 */

/** Processors whose vaulted cards Recharge takes on `POST /payment_methods`. */
export const PROCESSOR_NAMES = ['stripe', 'braintree', 'authorize', 'mollie'] as const

const text = (max: number) => z.string().trim().min(1).max(max)
const isoDate = z.iso.date().describe('YYYY-MM-DD')

export const importAddressSchema = z
  .object({
    first_name: text(255),
    last_name: text(255),
    company: z.string().trim().max(255).optional(),
    address1: text(255),
    address2: z.string().trim().max(255).optional(),
    city: text(255),
    province: z.string().trim().max(255).optional(),
    zip: text(32),
    country_code: z
      .string()
      .trim()
      .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166-1 alpha-2 code')
      .transform((code) => code.toUpperCase()),
    phone: z.string().trim().max(64).optional(),
  })
  .strict()

export const importLineSchema = z
  .object({
    external_product_id: text(64),
    external_variant_id: text(64),
    quantity: z.number().int().min(1).max(1000),
    plan_id: z.number().int().positive().optional().describe('A subscription plan of the product (catalog plan id)'),
    frequency: z
      .object({
        unit: z.enum(['day', 'week', 'month']),
        every: z.number().int().min(1).max(365),
      })
      .strict()
      .optional()
      .describe('Instead of plan_id: the product subscription plan with this interval'),
    price: z
      .string()
      .regex(/^\d{1,9}(\.\d{1,2})?$/, 'a decimal string such as "17.10"')
      .optional()
      .describe('Used only when the policy allows price overrides (imports.allow_price_override)'),
  })
  .strict()
  .refine((line) => (line.plan_id === undefined) !== (line.frequency === undefined), {
    message: 'give exactly one of plan_id or frequency',
  })

export const importRecordSchema = z
  .object({
    external_order_id: text(255).describe('The idempotency anchor: one record per paid order'),
    order_date: isoDate.describe('The day the order was paid (YYYY-MM-DD)'),
    first_charge_date: isoDate
      .optional()
      .describe('First Recharge charge (YYYY-MM-DD); default one interval after order_date'),
    customer: z
      .object({
        email: z.email().max(255),
        first_name: text(255),
        last_name: text(255),
        phone: z.string().trim().max(64).optional(),
        external_customer_id: text(255).optional(),
      })
      .strict(),
    payment_method: z
      .object({
        processor_name: z.enum(PROCESSOR_NAMES),
        processor_customer_token: text(255),
        processor_payment_method_token: text(255),
        payment_type: z.enum(['CREDIT_CARD', 'PAYPAL', 'APPLE_PAY', 'GOOGLE_PAY', 'SEPA_DEBIT']).optional(),
        billing_address: importAddressSchema,
      })
      .strict(),
    shipping_address: importAddressSchema,
    lines: z.array(importLineSchema).min(1).max(50),
  })
  .strict()

export type ImportRecord = z.output<typeof importRecordSchema>
export type ImportAddress = z.output<typeof importAddressSchema>
export type ImportLine = z.output<typeof importLineSchema>

export type RecordParse = { ok: true; record: ImportRecord } | { ok: false; message: string }

/** Parse one record; a bad one is described field by field (the run reports it and goes on). */
export function parseImportRecord(input: unknown): RecordParse {
  const parsed = importRecordSchema.safeParse(input)
  if (parsed.success) return { ok: true, record: parsed.data }
  const message = parsed.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(record)'}: ${issue.message}`)
    .join('; ')
  return { ok: false, message }
}

/** A record's external_order_id when it has a usable one (bad records are still named by it in reports). */
export function externalOrderIdOf(input: unknown): string | null {
  const id = (input as { external_order_id?: unknown } | null)?.external_order_id
  return typeof id === 'string' && id.trim() !== '' ? id.trim().slice(0, 255) : null
}

/** The JSON Schema of one record (draft 2020-12), as committed in schemas/import-record.schema.json. */
export function importRecordJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(importRecordSchema, { io: 'input', target: 'draft-2020-12' }),
    $id: 'https://recharge-bridge.dev/schemas/import-record.schema.json',
    title: 'recharge-bridge import record',
  }
}
