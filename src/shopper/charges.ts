import { AppError } from '../errors.ts'
import type { Charge } from '../recharge/schemas/charges.ts'
import type { DeliveryScheduleService } from './delivery-schedule.ts'
import type { PublicDelivery } from './delivery-schemas.ts'
import type { ActionContext, WritePipeline } from './pipeline.ts'
import { dateFromToday } from './policy-checks.ts'
import { asShopperMistake } from './rejections.ts'

/**
 * Skip or restore ANY upcoming delivery, not only a subscription's next one: by its charge (queued → skip, skipped →
 * unskip), or by date for a delivery with no charge yet (Recharge `POST /addresses/{id}/charges/skip`). Policy
 * switches `skip` and `unskip`. Each answers the delivery as the schedule shows it afterwards; a lost answer is
 * confirmed from a fresh read of the schedule (every subscription named shows skipped, or not).
 */
export class ChargeActions {
  private readonly pipeline: WritePipeline
  private readonly schedule: DeliveryScheduleService

  constructor(options: { pipeline: WritePipeline; schedule: DeliveryScheduleService }) {
    this.pipeline = options.pipeline
    this.schedule = options.schedule
  }

  skip(context: ActionContext, chargeId: string, subscriptionIds?: readonly string[]): Promise<PublicDelivery> {
    return this.change(context, chargeId, subscriptionIds, 'skip')
  }

  unskip(context: ActionContext, chargeId: string, subscriptionIds?: readonly string[]): Promise<PublicDelivery> {
    return this.change(context, chargeId, subscriptionIds, 'unskip')
  }

  /** Skip a delivery by its date: one of the schedule's dates, with or without a charge yet. */
  async skipDate(
    context: ActionContext,
    body: { date: string; address_id?: string | undefined; subscription_ids?: readonly string[] | undefined },
  ): Promise<PublicDelivery> {
    const { pipeline } = this
    await pipeline.admit(context, ['skip'])
    const customerId = context.shopper.customerId
    if (body.address_id !== undefined) await pipeline.records.ownAddress(customerId, body.address_id)
    if (body.date <= dateFromToday(0)) throw notInSchedule(body.date)
    const candidates = (await this.schedule.on(customerId, body.date)).filter(
      (delivery) => body.address_id === undefined || delivery.order.address_id === body.address_id,
    )
    if (candidates.length === 0) throw notInSchedule(body.date)
    if (candidates.length > 1) {
      throw new AppError('UNPROCESSABLE', {
        detail: 'Deliveries to several addresses share this date: name the address_id.',
        errors: [{ field: 'body.address_id', message: 'required when several addresses have a delivery that day' }],
      })
    }
    const { order } = candidates[0] as (typeof candidates)[number]
    const addressId = order.address_id as string
    const lines = order.line_items.filter((line) => line.plan_type !== 'onetime' && line.subscription_id)
    const open = lines.filter((line) => line.is_skipped !== true && line.is_skippable !== false)
    const ids = chosen(
      lines.map((line) => line.subscription_id as string),
      open.map((line) => line.subscription_id as string),
      body.subscription_ids,
      'skip',
    )
    await pipeline.write(
      context,
      [`address:${addressId}`, ...ids.map((id) => `subscription:${id}`)],
      async () => {
        await pipeline
          .upstream()
          .addresses.skipFutureCharge(addressId, body.date, ids, pipeline.writeOptions(context, addressId))
          .catch(asShopperMistake({ date: 'NOT_IN_SCHEDULE', subscription_ids: 'NOT_ON_DELIVERY' }))
        return true as const
      },
      () => this.schedule.shows(context, body.date, addressId, ids, true),
    )
    return this.schedule.current(context, body.date, addressId)
  }

  private async change(
    context: ActionContext,
    chargeId: string,
    subscriptionIds: readonly string[] | undefined,
    change: 'skip' | 'unskip',
  ): Promise<PublicDelivery> {
    const { pipeline } = this
    await pipeline.admit(context, [change])
    const charge = await this.ownUpcomingCharge(context, chargeId)
    const wanted = change === 'skip' ? 'queued' : 'skipped'
    if (charge.status !== wanted) {
      throw new AppError('CHARGE_NOT_SKIPPABLE', {
        detail: change === 'skip' ? 'Only a queued delivery can be skipped.' : 'This delivery is not skipped.',
      })
    }
    const onCharge = charge.line_items
      .filter((item) => item.purchase_item_type === 'subscription' && item.purchase_item_id)
      .map((item) => item.purchase_item_id as string)
    const ids = chosen(onCharge, onCharge, subscriptionIds, change)
    const date = charge.scheduled_at
    const addressId = charge.address_id
    await pipeline.write(
      context,
      [`charge:${charge.id}`, ...ids.map((id) => `subscription:${id}`)],
      async () => {
        await pipeline
          .upstream()
          .charges[change](charge.id, ids, pipeline.writeOptions(context, addressId))
          .catch(
            asShopperMistake({
              charge: 'CHARGE_NOT_SKIPPABLE',
              scheduled_at: 'CHARGE_NOT_SKIPPABLE',
              purchase_item_ids: 'NOT_ON_DELIVERY',
            }),
          )
        return true as const
      },
      async () =>
        date && addressId ? this.schedule.shows(context, date, addressId, ids, change === 'skip') : undefined,
    )
    if (!date || !addressId) throw new AppError('NOT_FOUND', { detail: 'This delivery is no longer scheduled.' })
    return this.schedule.current(context, date, addressId)
  }

  /**
   * The shopper's upcoming (queued or skipped) charge. One of their charges that is already processed is a 422, not a
   * 404: it is theirs (found in their own order history, never by reading the id upstream), just not upcoming.
   */
  private async ownUpcomingCharge(context: ActionContext, chargeId: string): Promise<Charge> {
    const { records } = this.pipeline
    try {
      return await records.ownCharge(context.shopper.customerId, chargeId)
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== 'NOT_FOUND') throw error
      const orders = (await records.orders(context.shopper.customerId)).rows
      if (orders.some((order) => order.charge?.id === chargeId)) {
        throw new AppError('CHARGE_NOT_SKIPPABLE', { detail: 'This delivery has already been processed.' })
      }
      throw error
    }
  }
}

/**
 * The subscription ids an action applies to: the ones asked (each must be one of `all`, and of `open` = still
 * skippable or restorable), else every open one. Nothing to act on is a 422.
 */
function chosen(
  all: readonly string[],
  open: readonly string[],
  asked: readonly string[] | undefined,
  change: 'skip' | 'unskip',
): string[] {
  if (asked !== undefined) {
    const foreign = asked.filter((id) => !all.includes(id))
    if (foreign.length > 0) {
      throw new AppError('NOT_ON_DELIVERY', {
        detail: `Subscription ${foreign.join(', ')} is not on this delivery.`,
        errors: [{ field: 'body.subscription_ids', message: 'each id must be a subscription on this delivery' }],
      })
    }
    const closed = asked.filter((id) => !open.includes(id))
    if (closed.length > 0) {
      throw new AppError('CHARGE_NOT_SKIPPABLE', {
        detail: `Subscription ${closed.join(', ')} cannot be ${change === 'skip' ? 'skipped' : 'restored'} on this delivery.`,
      })
    }
    return [...new Set(asked)]
  }
  if (open.length === 0) {
    throw new AppError('CHARGE_NOT_SKIPPABLE', {
      detail: change === 'skip' ? 'Nothing on this delivery can be skipped.' : 'Nothing on this delivery is skipped.',
    })
  }
  return [...open]
}

function notInSchedule(date: string): AppError {
  return new AppError('NOT_IN_SCHEDULE', {
    detail: `There is no upcoming delivery on ${date}.`,
    errors: [{ field: 'body.date', message: 'must be one of the dates of GET /v1/delivery-schedule' }],
  })
}
