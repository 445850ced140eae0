import { z } from 'zod'
import { addressSchema, customerSchema, orderSchema } from './schemas.ts'

/**
 * Public shapes of the account routes (payment methods, profile, orders, address creation, deep links). Like
 * schemas.ts these are allow-lists: the serializer drops anything not listed, so a processor token or any other
 * upstream field can never reach a storefront through a mapper mistake.
 */
const idString = z.string().describe('Recharge id')
const shortText = (max: number) => z.string().trim().max(max)

export const paymentMethodSchema = z
  .object({
    id: idString,
    payment_type: z.string().nullable().describe('CREDIT_CARD, PAYPAL, …'),
    brand: z.string().nullable().describe('Card brand (visa, mastercard, …), null for other payment types'),
    last4: z.string().nullable().describe('Last four digits of the card'),
    exp_month: z.number().int().nullable(),
    exp_year: z.number().int().nullable(),
    is_default: z.boolean(),
    address_ids: z.array(z.string()).describe('The shipping addresses whose charges this method pays'),
    status: z
      .enum(['ok', 'expired', 'invalid', 'failing'])
      .describe(
        'ok; expired (past its expiry date); invalid (the processor refused it); failing (a charge it pays failed and is being retried)',
      ),
    failing: z.boolean().describe('True unless status is ok: the shopper should update this method'),
    in_dunning: z.boolean().describe('A charge this method pays failed and Recharge is retrying it'),
  })
  .describe('A payment method, masked: never a processor token or the full card number')

export const paymentMethodListSchema = z.object({ payment_methods: z.array(paymentMethodSchema) })

export const updateLinkAnswerSchema = z.object({
  status: z.literal('sent').describe('Recharge was asked to email the shopper a secure link to update this method'),
  payment_method_id: idString,
  next_request_after: z.string().describe('ISO time from which another link may be requested'),
})

export const paymentRecoverySchema = z
  .object({
    reason: z
      .enum(['payment_failed', 'no_valid_payment_method'])
      .describe('payment_failed: a charge failed and is being retried; no_valid_payment_method: no usable card'),
    message: z.string().describe('A sentence to show the shopper as it is'),
    failed_charge: z
      .object({ id: idString, scheduled_at: z.string().nullable() })
      .nullable()
      .describe('The failed charge, when one is known'),
    payment_method_id: z.string().nullable().describe('The method to update, when one is known'),
    action: z
      .object({
        label: z.string(),
        method: z.literal('POST'),
        href: z.string().describe('Bridge route that starts the fix (same origin as this API)'),
        body: z.record(z.string(), z.string()).nullable(),
      })
      .describe('What the shopper can do about it: the route to call'),
  })
  .describe('Present when a payment failed or no payment method is usable; null otherwise')

export const meSchema = customerSchema.extend({
  payment_recovery: paymentRecoverySchema.nullable(),
})

export const profilePatchSchema = z
  .object({
    first_name: shortText(100).min(1).optional(),
    last_name: shortText(100).min(1).optional(),
    phone: shortText(40).nullable().optional().describe('null or "" clears it'),
    email: z.email().max(254).optional().describe('Only when the store policy allows change_email (off by default)'),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'send at least one field')
  .describe('Profile fields to change')

const requiredText = (max: number) => shortText(max).min(1)

export const addressCreateSchema = z
  .object({
    first_name: requiredText(100),
    last_name: requiredText(100),
    company: shortText(200).nullable().optional(),
    address1: requiredText(255),
    address2: shortText(255).nullable().optional(),
    city: requiredText(100),
    province: requiredText(100),
    zip: shortText(20).optional(),
    country_code: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as US'),
    phone: shortText(40).nullable().optional(),
  })
  .strict()
  .describe('A new shipping address')

export const changeAddressBodySchema = z
  .object({
    address_id: z
      .string()
      .regex(/^\d{1,19}$/, 'must be a numeric id')
      .describe('One of the shopper’s own addresses (GET /v1/addresses)'),
  })
  .strict()

export const orderDetailSchema = orderSchema.extend({
  shipping_address: addressSchema.omit({ id: true }).nullable(),
})

export const orderPageQuerySchema = z.object({
  cursor: z.string().min(1).max(2048).optional().describe('next_cursor of the previous page'),
  limit: z.coerce.number().int().min(1).max(250).default(50).describe('Orders per page (1–250, default 50)'),
})

export const orderPageSchema = z.object({
  orders: z.array(orderSchema),
  next_cursor: z.string().nullable().describe('Pass as ?cursor= for the next (older) page; null on the last page'),
})

export const portalPages = ['overview', 'subscriptions', 'orders', 'payment_methods', 'addresses'] as const
export type PortalPage = (typeof portalPages)[number]

export const portalLinkBodySchema = z
  .object({
    page: z.enum(portalPages).optional().describe('The hosted portal page the link opens (default subscriptions)'),
  })
  .strict()
