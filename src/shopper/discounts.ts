import { AppError } from '../errors.ts'
import { RechargeValidationError } from '../recharge/errors.ts'
import type { DiscountedCharge } from '../recharge/schemas/retention.ts'
import type { ActionContext, WritePipeline } from './pipeline.ts'

/** What an address answers after a discount change: the code it carries now (null: none). */
export interface AddressDiscount {
  address_id: string
  discount_code: string | null
}

/**
 * Discount codes after checkout, on the shared write pipeline: one code per address (Recharge carries it to the
 * address's upcoming charges) set with `PUT /addresses/{id}` `discounts`, or a code on one upcoming charge
 * (`apply_discount` / `remove_discount`). A code Recharge refuses is the shopper's mistake, so it is a 422 with its
 * own code (DISCOUNT_NOT_FOUND, DISCOUNT_EXPIRED, DISCOUNT_NOT_APPLICABLE, DISCOUNT_ALREADY_APPLIED), never a 502.
 * Recharge's refusal texts are not documented, so the refusal is explained from the Discounts API record of the code
 * (found? expired?), with the text only as a fallback when that read fails.
 */
export class DiscountActions {
  private readonly pipeline: WritePipeline

  constructor(options: { pipeline: WritePipeline }) {
    this.pipeline = options.pipeline
  }

  async applyToAddress(context: ActionContext, addressId: string, code: string): Promise<AddressDiscount> {
    const { pipeline } = this
    await pipeline.admit(context, ['apply_discount'])
    const address = await pipeline.records.ownAddress(context.shopper.customerId, addressId)
    const retention = pipeline.upstream().retention
    const current = await retention.addressDiscounts(address.id, pipeline.readOptions(context))
    const applied = current.discounts[0]
    if (applied) {
      // The same code again (a retry without a key) is done; another one would silently replace it.
      const same = applied.code
        ? sameCode(applied.code, code)
        : (await retention.discountByCode(code, pipeline.readOptions(context)))?.id === applied.id
      if (same) return { address_id: address.id, discount_code: code }
      throw new AppError('DISCOUNT_ALREADY_APPLIED', {
        detail: 'This address already has a discount. Remove it before entering another code.',
      })
    }
    return pipeline.write(
      context,
      [`address:${address.id}`],
      async () => {
        await retention
          .setAddressDiscount(address.id, code, pipeline.writeOptions(context, address.id))
          .catch((error: unknown) => this.refused(context, error, code))
        return { address_id: address.id, discount_code: code }
      },
      async () => {
        const read = await retention.addressDiscounts(address.id, pipeline.confirmingReadOptions(context))
        const wanted = await retention.discountByCode(code, pipeline.confirmingReadOptions(context))
        const shows = read.discounts.some((line) => (line.code ? sameCode(line.code, code) : line.id === wanted?.id))
        return shows ? { address_id: address.id, discount_code: code } : undefined
      },
    )
  }

  async removeFromAddress(context: ActionContext, addressId: string): Promise<AddressDiscount> {
    const { pipeline } = this
    await pipeline.admit(context, ['apply_discount'])
    const address = await pipeline.records.ownAddress(context.shopper.customerId, addressId)
    const retention = pipeline.upstream().retention
    const removed = { address_id: address.id, discount_code: null }
    return pipeline.write(
      context,
      [`address:${address.id}`],
      async () => {
        await retention.setAddressDiscount(address.id, null, pipeline.writeOptions(context, address.id))
        return removed
      },
      async () => {
        const read = await retention.addressDiscounts(address.id, pipeline.confirmingReadOptions(context))
        return read.discounts.length === 0 ? removed : undefined
      },
    )
  }

  async applyToCharge(context: ActionContext, chargeId: string, code: string): Promise<DiscountedCharge> {
    const { pipeline } = this
    await pipeline.admit(context, ['apply_discount'])
    const charge = await this.queuedCharge(context, chargeId)
    const retention = pipeline.upstream().retention
    return pipeline.write(
      context,
      [`charge:${charge.id}`],
      () =>
        retention
          .applyChargeDiscount(charge.id, code, pipeline.writeOptions(context, charge.address_id))
          .catch((error: unknown) => this.refused(context, error, code)),
      async () => {
        const read = await retention.charge(charge.id, pipeline.confirmingReadOptions(context))
        return read.discounts.some((line) => line.code !== null && sameCode(line.code, code)) ? read : undefined
      },
    )
  }

  async removeFromCharge(context: ActionContext, chargeId: string): Promise<DiscountedCharge> {
    const { pipeline } = this
    await pipeline.admit(context, ['apply_discount'])
    const charge = await this.queuedCharge(context, chargeId)
    const retention = pipeline.upstream().retention
    return pipeline.write(
      context,
      [`charge:${charge.id}`],
      () =>
        retention
          .removeChargeDiscount(charge.id, pipeline.writeOptions(context, charge.address_id))
          .catch((error: unknown) => this.refused(context, error, null)),
      async () => {
        const read = await retention.charge(charge.id, pipeline.confirmingReadOptions(context))
        return read.discounts.length === 0 ? read : undefined
      },
    )
  }

  /** One of the shopper's upcoming charges, queued (a skipped one takes no discount: 422 CHARGE_NOT_QUEUED). */
  private async queuedCharge(context: ActionContext, chargeId: string) {
    const charge = await this.pipeline.records.ownCharge(context.shopper.customerId, chargeId)
    if (charge.status !== 'queued') throw chargeNotQueued()
    return charge
  }

  /** Recharge's 422 to a code → the shopper's own problem code; anything else passes through unchanged. */
  private async refused(context: ActionContext, error: unknown, code: string | null): Promise<never> {
    if (!(error instanceof RechargeValidationError)) throw error
    const fields = error.fieldErrors.map((entry) => entry.field)
    const text = [error.upstreamMessage ?? '', ...error.fieldErrors.map((entry) => entry.message)].join(' ')
    if (fields.includes('charge') || fields.includes('status')) throw chargeNotQueued()
    if (/already has a discount|only one discount/i.test(text)) {
      throw new AppError('DISCOUNT_ALREADY_APPLIED', {
        detail: 'A discount is already applied here. Remove it before entering another code.',
      })
    }
    if (code === null) throw error
    let found: { ends_at: string | null } | null | undefined
    try {
      found = await this.pipeline.upstream().retention.discountByCode(code, this.pipeline.readOptions(context))
    } catch {
      found = undefined // unknown: fall back to Recharge's words
    }
    const unknown = found === null || (found === undefined && /invalid|not found|does not exist/i.test(text))
    if (unknown) {
      throw new AppError('DISCOUNT_NOT_FOUND', { detail: `The store has no discount code ${code}.` })
    }
    const expired = found ? found.ends_at !== null && Date.parse(found.ends_at) <= Date.now() : /expired/i.test(text)
    if (expired) throw new AppError('DISCOUNT_EXPIRED', { detail: `The discount code ${code} has expired.` })
    throw new AppError('DISCOUNT_NOT_APPLICABLE', {
      detail: `The discount code ${code} cannot be used here (it may be inactive, limited to other products or customers, or need a larger order).`,
    })
  }
}

export function chargeNotQueued(): AppError {
  return new AppError('CHARGE_NOT_QUEUED', {
    detail: 'Only an upcoming delivery that is queued (not skipped or already billed) can be changed this way.',
  })
}

function sameCode(a: string, b: string): boolean {
  return a.trim().toUpperCase() === b.trim().toUpperCase()
}
