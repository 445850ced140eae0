import type { z } from 'zod'
import { callOptions } from '../cache/call-options.ts'
import type { Cache, CachedFunction } from '../cache/types.ts'
import { AppError } from '../errors.ts'
import { isOutcomeUnknown } from '../recharge/errors.ts'
import type { Charge } from '../recharge/schemas/charges.ts'
import type { Customer } from '../recharge/schemas/customers.ts'
import type { PaymentMethod } from '../recharge/schemas/payment-methods.ts'
import type { paymentMethodSchema, paymentRecoverySchema, updateLinkAnswerSchema } from './account-schemas.ts'
import type { ActionContext, WritePipeline } from './pipeline.ts'
import type { UpdateLinkLimit } from './update-link-limit.ts'

export type PublicPaymentMethod = z.input<typeof paymentMethodSchema>
export type PaymentRecovery = z.input<typeof paymentRecoverySchema>
export type UpdateLinkAnswer = z.input<typeof updateLinkAnswerSchema>

/** As the shopper lists (src/shopper/records.ts): these change when a charge fails or a card is replaced. */
const LIST_POLICY = { ttlMs: 30_000, staleWhileRevalidateMs: 30_000, staleIfErrorMs: 10 * 60_000 }

/**
 * A shopper's payment methods and the way out of dunning. The bridge never handles card data: it shows each method
 * masked (brand, last 4, expiry, which addresses it pays for, whether it is failing) and, to fix one, asks Recharge
 * to email the shopper its secure "update your payment information" link (`POST /customers/{id}/notifications`),
 * at most once per shopper per window (src/shopper/update-link-limit.ts).
 *
 * The lists are cached like the shopper's other lists and tagged `customer:<id>`, so the webhooks that change them
 * (customer/updated, customer/payment_method_updated, charge/failed, charge/paid, address/updated) drop them.
 */
export class PaymentMethodService {
  private readonly pipeline: WritePipeline
  private readonly limit: UpdateLinkLimit
  private readonly methodList: CachedFunction<string, PaymentMethod[]>
  private readonly failedChargeList: CachedFunction<string, Charge[]>

  constructor(options: { pipeline: WritePipeline; cache: Cache; namespace: string; limit: UpdateLinkLimit }) {
    const { pipeline, cache, namespace } = options
    this.pipeline = pipeline
    this.limit = options.limit
    this.methodList = cache.define<string, PaymentMethod[]>(`${namespace}shopper-payment-methods`, {
      key: (customerId) => customerId,
      ...LIST_POLICY,
      tags: (customerId, rows) => [`customer:${customerId}`, ...(rows ?? []).map((row) => `payment-method:${row.id}`)],
      fetch: async (customerId, context) => {
        // A shopper has a handful of cards: one page (Recharge's payment-method list carries no cursor).
        const page = await pipeline
          .upstream()
          .paymentMethods.list({ customer_id: customerId }, { limit: 250 }, callOptions(context))
        // Only the shopper's own: a row naming another customer is never shown (nor usable for the update link).
        return page.items.filter((row) => row.customer_id === null || row.customer_id === customerId)
      },
    })
    this.failedChargeList = cache.define<string, Charge[]>(`${namespace}shopper-failed-charges`, {
      key: (customerId) => customerId,
      ...LIST_POLICY,
      tags: (customerId, rows) => [`customer:${customerId}`, ...(rows ?? []).map((row) => `charge:${row.id}`)],
      fetch: async (customerId, context) => {
        const page = await pipeline
          .upstream()
          .charges.list(
            { customer_id: customerId, status: 'error', sort_by: 'scheduled_at-desc' },
            { limit: 25 },
            callOptions(context),
          )
        return page.items
      },
    })
  }

  /** The mirror's (MIRROR=on, when it holds the shopper), else the cached list. */
  private async methods(customerId: string): Promise<{ value: PaymentMethod[]; state: 'HIT' | 'MISS' | 'STALE' }> {
    const mirrored = await this.pipeline.records.mirroredPaymentMethods(customerId)
    return mirrored ? { value: mirrored, state: 'HIT' } : this.methodList(customerId)
  }

  /** The shopper's payment methods, masked, default first. */
  async list(customerId: string): Promise<{ methods: PublicPaymentMethod[]; state: 'HIT' | 'MISS' | 'STALE' }> {
    const { records } = this.pipeline
    const [methods, addresses, customer] = await Promise.all([
      this.methods(customerId),
      records.addresses(customerId),
      records.customer(customerId),
    ])
    const failedAddressIds = new Set(
      (await this.failedCharges(customerId, customer.value)).map((charge) => charge.address_id),
    )
    const now = new Date()
    const publicMethods = methods.value.map((method) => {
      const addressIds = addresses.rows.filter((row) => row.payment_method_id === method.id).map((row) => row.id)
      const inDunning = addressIds.some((id) => failedAddressIds.has(id))
      return publicPaymentMethod(method, addressIds, inDunning, now)
    })
    publicMethods.sort((a, b) => Number(b.is_default) - Number(a.is_default))
    return { methods: publicMethods, state: methods.state }
  }

  /**
   * Ask Recharge to email the shopper the link to update `paymentMethodId`. Policy, write budget, ownership (404
   * with no upstream call for a method that is not theirs), then the shopper's one email per window (429).
   *
   * Nothing is cached as a result (an email changes no record), so nothing is invalidated. Recharge keeps no list of
   * the emails it sent, so an answer lost on the way cannot be confirmed by a read: it stays an honest "outcome
   * unknown", and the window stays taken (the email may be on its way). A refusal (Recharge answered 4xx, or the
   * call never left) gives the window back.
   */
  async requestUpdateLink(context: ActionContext, paymentMethodId: string): Promise<UpdateLinkAnswer> {
    const { pipeline } = this
    const customerId = context.shopper.customerId
    await pipeline.admit(context, ['update_payment_method'])
    const mirrored = await pipeline.records.mirroredPaymentMethods(customerId)
    const method = mirrored
      ? mirrored.find((row) => row.id === paymentMethodId)
      : await pipeline.records.own(this.methodList, customerId, paymentMethodId, 1)
    if (!method) throw new AppError('NOT_FOUND', { detail: 'No such record for this customer.' })
    const { nextAt } = await this.limit.take(customerId)
    try {
      await context.beforeWrite?.()
      await pipeline.upstream().customers.sendNotification(
        customerId,
        {
          type: 'email',
          template_type: 'shopify_update_payment_information',
          template_vars: { payment_method_id: Number(method.id) },
        },
        pipeline.writeOptions(context, null),
      )
    } catch (error) {
      if (!isOutcomeUnknown(error)) await this.limit.release(customerId)
      throw error
    }
    return { status: 'sent', payment_method_id: method.id, next_request_after: nextAt.toISOString() }
  }

  /**
   * What GET /v1/me says when a payment failed or no payment method is usable: a sentence for the shopper and the
   * route that starts the fix. Null when the account is in good standing (no extra upstream read then).
   */
  async recovery(customerId: string, customer: Customer): Promise<PaymentRecovery | null> {
    const inDunning = customer.has_payment_method_in_dunning === true
    if (!inDunning && customer.has_valid_payment_method !== false) return null
    const [{ methods }, failed] = await Promise.all([this.list(customerId), this.failedCharges(customerId, customer)])
    const target =
      methods.find((method) => method.in_dunning) ??
      methods.find((method) => method.failing && method.is_default) ??
      methods.find((method) => method.failing) ??
      methods.find((method) => method.is_default) ??
      null
    const charge = failed[0] ?? null
    const card = target?.last4 ? `your card ending ${target.last4}` : 'your payment details'
    const message = inDunning
      ? `Your payment${charge?.scheduled_at ? ` for the delivery of ${charge.scheduled_at}` : ''} did not go through. ` +
        `Update ${card} so it can be retried and your subscription continues.`
      : `There is no valid payment method on your account. Update ${card} so your next delivery can be charged.`
    const emailLink = target !== null && this.pipeline.policy.actions.update_payment_method
    return {
      reason: inDunning ? 'payment_failed' : 'no_valid_payment_method',
      message,
      failed_charge: charge ? { id: charge.id, scheduled_at: charge.scheduled_at } : null,
      payment_method_id: target?.id ?? null,
      action: emailLink
        ? {
            label: 'Email me a secure link to update my card',
            method: 'POST',
            href: `/v1/payment-methods/${target.id}/update-link`,
            body: null,
          }
        : {
            label: 'Update my payment details',
            method: 'POST',
            href: '/v1/portal/links',
            body: { page: 'payment_methods' },
          },
    }
  }

  /** The shopper's failed charges, newest first; read only while Recharge says they are in dunning. */
  private async failedCharges(customerId: string, customer: Customer): Promise<Charge[]> {
    if (customer.has_payment_method_in_dunning !== true) return []
    return (await this.failedChargeList(customerId)).value
  }
}

export function publicPaymentMethod(
  method: PaymentMethod,
  addressIds: string[],
  inDunning: boolean,
  now: Date,
): PublicPaymentMethod {
  const details = method.payment_details
  const expYear = details?.exp_year ?? null
  const expMonth = details?.exp_month ?? null
  const expired =
    expYear !== null &&
    expMonth !== null &&
    (expYear < now.getUTCFullYear() || (expYear === now.getUTCFullYear() && expMonth < now.getUTCMonth() + 1))
  const invalid = method.status !== null && method.status.toLowerCase() === 'invalid'
  const status = expired ? 'expired' : invalid ? 'invalid' : inDunning ? 'failing' : 'ok'
  return {
    id: method.id,
    payment_type: method.payment_type,
    brand: details?.brand ?? null,
    last4: details?.last4 ?? null,
    exp_month: expMonth,
    exp_year: expYear,
    is_default: method.default === true,
    address_ids: addressIds,
    status,
    failing: status !== 'ok',
    in_dunning: inDunning,
  }
}
