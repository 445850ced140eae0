import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { deepFreeze } from '../infra/deep-freeze.ts'

/**
 * The merchant's self-serve policy. Recharge's storefront SDK enforces the merchant's portal settings; with an admin
 * token we get none of that, so the bridge enforces this policy server-side on every shopper action. Loaded from
 * POLICY_FILE (JSON, see docs/policy.md and policy.example.json); every field has a safe default.
 */
export const shopperActions = [
  'skip',
  'unskip',
  'reschedule',
  'change_frequency',
  'change_quantity',
  'swap_variant',
  'cancel',
  'activate',
  'update_address',
  'add_onetime',
  'create_address',
  'change_address',
  'update_profile',
  'change_email',
  'update_payment_method',
  'pause',
  'resume',
  'apply_discount',
  'order_now',
  'cancellation_offers',
] as const

export type ShopperAction = (typeof shopperActions)[number]

/**
 * Actions that are off unless the policy turns them on; every other action defaults to allowed. Billing a charge
 * today ("order now") moves money ahead of the schedule; changing the email changes how the shopper signs in.
 */
const OFF_BY_DEFAULT: ReadonlySet<ShopperAction> = new Set<ShopperAction>(['order_now', 'change_email'])

const DEFAULT_CANCEL_REASONS = [
  'Too expensive',
  'I have more than I need',
  'I no longer need it',
  'I want a different product',
  'Other',
] as const

const actionsSchema = z
  .object(
    Object.fromEntries(shopperActions.map((action) => [action, z.boolean().optional()])) as Record<
      ShopperAction,
      z.ZodOptional<z.ZodBoolean>
    >,
  )
  .strict()
  .describe(
    'Which self-serve actions shoppers may take; an omitted action keeps its default (true, except change_email and order_now)',
  )

const offerId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'must be 1-40 lower-case letters, digits, - or _')
  .describe('Stable id of the offer (used in the accept route and the metrics)')
const offerTitle = z.string().trim().min(1).max(200).optional().describe('What the shopper reads')

/** One retention offer of the policy file, shown before a cancellation with the reason it is listed under. */
export const offerSchema = z.discriminatedUnion('kind', [
  z
    .object({
      id: offerId,
      kind: z.literal('discount'),
      code: z.string().trim().min(1).max(64).describe('Recharge discount code set on the address (its next charges)'),
      title: offerTitle,
    })
    .strict(),
  z.object({ id: offerId, kind: z.literal('skip'), title: offerTitle }).strict(),
  z
    .object({
      id: offerId,
      kind: z.literal('pause'),
      days: z.number().int().min(1).max(365).optional().describe('Pause for this many days'),
      deliveries: z.number().int().min(1).max(12).optional().describe('Pause for this many deliveries'),
      title: offerTitle,
    })
    .strict()
    .refine((offer) => (offer.days === undefined) !== (offer.deliveries === undefined), 'give days or deliveries'),
  z
    .object({
      id: offerId,
      kind: z.literal('swap'),
      external_product_id: z.string().min(1).max(64).optional(),
      external_variant_id: z
        .string()
        .min(1)
        .max(64)
        .optional()
        .describe('The variant to swap to; without it the shopper picks one of the subscription variant_options'),
      title: offerTitle,
    })
    .strict(),
])
export type PolicyOffer = z.output<typeof offerSchema>

const pauseSchema = z
  .object({
    max_days: z.number().int().min(1).max(365).default(90).describe('Longest pause, in days from today'),
    max_deliveries: z.number().int().min(1).max(12).default(3).describe('Most deliveries one pause may leave out'),
  })
  .strict()
  .default({ max_days: 90, max_deliveries: 3 })

const retentionSchema = z
  .object({
    offers: z
      .record(z.string(), z.array(offerSchema).max(5))
      .default({})
      .describe('Offers per cancellation reason (keys are cancel.reasons)'),
    recharge_strategies: z
      .boolean()
      .default(true)
      .describe("Also offer the store's Recharge retention strategies (GET /retention_strategies)"),
    delay_days: z
      .number()
      .int()
      .min(1)
      .max(365)
      .default(30)
      .describe('Length of the pause a Recharge delay_subscription strategy offers'),
  })
  .strict()
  .default({ offers: {}, recharge_strategies: true, delay_days: 30 })

export const policySchema = z
  .object({
    actions: actionsSchema.default({}),
    cancel: z
      .object({
        reasons: z
          .array(z.string().trim().min(1).max(120))
          .min(1)
          .max(30)
          .refine((list) => new Set(list).size === list.length, 'reasons must be unique')
          .default([...DEFAULT_CANCEL_REASONS])
          .describe('The reasons a shopper picks from; one is required to cancel'),
        comment_max_length: z
          .number()
          .int()
          .min(0)
          .max(2000)
          .default(500)
          .describe('Longest optional free-text comment (0 = no comment accepted)'),
        minimum_charges_before_cancel: z
          .number()
          .int()
          .min(0)
          .max(100)
          .default(0)
          .describe('Successful charges a subscription needs before the shopper may cancel it'),
      })
      .strict()
      .default({
        reasons: [...DEFAULT_CANCEL_REASONS],
        comment_max_length: 500,
        minimum_charges_before_cancel: 0,
      }),
    reschedule: z
      .object({
        min_days_ahead: z.number().int().min(1).max(365).default(1).describe('Earliest new date, in days from today'),
        max_days_ahead: z.number().int().min(1).max(365).default(90).describe('Latest new date, in days from today'),
      })
      .strict()
      .refine((window) => window.min_days_ahead <= window.max_days_ahead, 'min_days_ahead must be ≤ max_days_ahead')
      .default({ min_days_ahead: 1, max_days_ahead: 90 }),
    quantity: z
      .object({
        min: z.number().int().min(1).max(1000).default(1),
        max: z.number().int().min(1).max(1000).default(10),
      })
      .strict()
      .refine((bounds) => bounds.min <= bounds.max, 'min must be ≤ max')
      .default({ min: 1, max: 10 }),
    swap: z
      .object({
        scope: z
          .enum(['same_product', 'catalog'])
          .default('same_product')
          .describe('same_product: only variants of the subscribed product; catalog: any subscribable catalog product'),
      })
      .strict()
      .default({ scope: 'same_product' }),
    onetimes: z
      .object({
        max_quantity: z.number().int().min(1).max(1000).default(10).describe('Largest quantity of one one-time item'),
        max_days_ahead: z
          .number()
          .int()
          .min(1)
          .max(365)
          .default(90)
          .describe('Latest delivery date a one-time item may be put on, in days from today'),
      })
      .strict()
      .default({ max_quantity: 10, max_days_ahead: 90 }),
    pause: pauseSchema,
    retention: retentionSchema,
    imports: z
      .object({
        allow_price_override: z
          .boolean()
          .default(false)
          .describe('Imported orders may set their own subscription price instead of the catalog plan price'),
      })
      .strict()
      .default({ allow_price_override: false }),
  })
  .strict()
  .superRefine((policy, ctx) => {
    const seen = new Set<string>()
    for (const [reason, offers] of Object.entries(policy.retention.offers)) {
      if (!policy.cancel.reasons.includes(reason)) {
        ctx.addIssue({
          code: 'custom',
          path: ['retention', 'offers', reason],
          message: 'must be one of cancel.reasons',
        })
      }
      for (const offer of offers) {
        if (seen.has(offer.id)) {
          ctx.addIssue({
            code: 'custom',
            path: ['retention', 'offers', reason],
            message: `offer id ${offer.id} repeats`,
          })
        }
        seen.add(offer.id)
        if (offer.kind === 'pause' && offer.days !== undefined && offer.days > policy.pause.max_days) {
          ctx.addIssue({
            code: 'custom',
            path: ['retention', 'offers', reason],
            message: 'pause longer than pause.max_days',
          })
        }
        if (
          offer.kind === 'pause' &&
          offer.deliveries !== undefined &&
          offer.deliveries > policy.pause.max_deliveries
        ) {
          ctx.addIssue({
            code: 'custom',
            path: ['retention', 'offers', reason],
            message: 'pause longer than pause.max_deliveries',
          })
        }
      }
    }
  })

export type PolicyInput = z.input<typeof policySchema>

export interface Policy {
  readonly actions: Readonly<Record<ShopperAction, boolean>>
  readonly cancel: {
    readonly reasons: readonly string[]
    readonly comment_max_length: number
    readonly minimum_charges_before_cancel: number
  }
  readonly reschedule: { readonly min_days_ahead: number; readonly max_days_ahead: number }
  readonly quantity: { readonly min: number; readonly max: number }
  readonly swap: { readonly scope: 'same_product' | 'catalog' }
  readonly onetimes: { readonly max_quantity: number; readonly max_days_ahead: number }
  readonly pause: { readonly max_days: number; readonly max_deliveries: number }
  readonly retention: {
    readonly offers: Readonly<Record<string, readonly PolicyOffer[]>>
    readonly recharge_strategies: boolean
    readonly delay_days: number
  }
  readonly imports: { readonly allow_price_override: boolean }
}

export class PolicyError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PolicyError'
  }
}

/** Parse a policy document (already JSON-decoded). Throws PolicyError listing every problem. */
export function parsePolicy(input: unknown): Policy {
  const parsed = policySchema.safeParse(input ?? {})
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    throw new PolicyError(`Invalid policy:\n${problems.map((line) => `  - ${line}`).join('\n')}`)
  }
  const value = parsed.data
  const actions = Object.fromEntries(
    shopperActions.map((action) => [action, value.actions[action] ?? !OFF_BY_DEFAULT.has(action)]),
  ) as Record<ShopperAction, boolean>
  return deepFreeze({ ...value, actions })
}

/** The policy of POLICY_FILE, or the defaults when unset. A broken file stops start-up with a clear message. */
export function loadPolicy(file: string | undefined): Policy {
  if (!file) return parsePolicy({})
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new PolicyError(`POLICY_FILE ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new PolicyError(`POLICY_FILE ${file} is not valid JSON: ${(error as Error).message}`)
  }
  try {
    return parsePolicy(json)
  } catch (error) {
    throw new PolicyError(`POLICY_FILE ${file}: ${(error as Error).message}`)
  }
}

/** How each action is described to a shopper when the store does not allow it. */
export const actionLabels: Record<ShopperAction, string> = {
  skip: 'Skipping a delivery',
  unskip: 'Restoring a skipped delivery',
  reschedule: 'Changing the next delivery date',
  change_frequency: 'Changing how often a subscription is delivered',
  change_quantity: 'Changing the quantity',
  swap_variant: 'Swapping to another product option',
  cancel: 'Cancelling a subscription',
  activate: 'Reactivating a subscription',
  update_address: 'Changing the shipping address',
  add_onetime: 'Adding one-time items to a delivery',
  create_address: 'Adding a shipping address',
  change_address: 'Moving a subscription to another address',
  update_profile: 'Changing your name or phone number',
  change_email: 'Changing your email address',
  update_payment_method: 'Requesting a link to update your payment details',
  pause: 'Pausing a subscription',
  resume: 'Resuming a paused subscription',
  apply_discount: 'Entering a discount code',
  order_now: 'Ordering the next delivery now',
  cancellation_offers: 'Offers before cancelling',
}
