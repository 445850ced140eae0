import type { Charge } from '../recharge/schemas/charges.ts'
import type { DeliverySchedule as UpstreamSchedule } from '../recharge/schemas/customers.ts'
import type { PublicDelivery } from './delivery-schemas.ts'
import type { ActionContext, WritePipeline } from './pipeline.ts'
import { dateFromToday } from './policy-checks.ts'
import { SCHEDULE_DAYS } from './records.ts'

type UpstreamDelivery = UpstreamSchedule['deliveries'][number]
type UpstreamOrder = UpstreamDelivery['orders'][number]

/** One delivery as Recharge lists it: a date and an address, with its lines. */
export interface ScheduledDelivery {
  date: string
  order: UpstreamOrder
}

/** How many dates one upstream read of the schedule may return (Recharge's maximum). */
const MAX_DATES = 100

/**
 * The shopper's upcoming deliveries (Recharge `GET /customers/{id}/delivery_schedule`), one per date and address,
 * with the charges that hold them: the queued charge to skip, the skipped charge to restore. Dates with no charge
 * yet appear too (`status: scheduled`); those are skipped by date (src/shopper/charges.ts).
 */
export class DeliveryScheduleService {
  private readonly pipeline: WritePipeline

  constructor(options: { pipeline: WritePipeline }) {
    this.pipeline = options.pipeline
  }

  /** The deliveries of the next `weeks` weeks, from the shopper's cached schedule and upcoming charges. */
  async list(
    customerId: string,
    weeks: number,
  ): Promise<{ deliveries: PublicDelivery[]; state: 'HIT' | 'MISS' | 'STALE' }> {
    const { records } = this.pipeline
    const [schedule, charges] = await Promise.all([
      records.deliverySchedule(customerId),
      records.upcomingCharges(customerId),
    ])
    const until = dateFromToday(weeks * 7)
    const deliveries = flatten(schedule.rows)
      .filter((delivery) => delivery.date <= until)
      .map((delivery) => this.present(delivery, charges.rows))
    return { deliveries, state: schedule.state }
  }

  /** The cached deliveries on `date` (one per address). */
  async on(customerId: string, date: string): Promise<ScheduledDelivery[]> {
    const schedule = await this.pipeline.records.deliverySchedule(customerId)
    return flatten(schedule.rows).filter((delivery) => delivery.date === date)
  }

  /**
   * The delivery of `date` at `addressId` as it is now, for the answer to a skip or unskip (the write dropped the
   * cached schedule, so this reads it again); dates past the cached window are read directly.
   */
  async current(context: ActionContext, date: string, addressId: string): Promise<PublicDelivery> {
    const { records } = this.pipeline
    const customerId = context.shopper.customerId
    const [rows, charges] = await Promise.all([
      date <= dateFromToday(SCHEDULE_DAYS)
        ? records.deliverySchedule(customerId).then((schedule) => schedule.rows)
        : this.readThrough(context, date, false),
      records.upcomingCharges(customerId),
    ])
    const found = flatten(rows).find((delivery) => delivery.date === date && delivery.order.address_id === addressId)
    return this.present(found ?? { date, order: emptyOrder(addressId) }, charges.rows)
  }

  /**
   * After a lost answer: does a fresh read of the schedule show every one of `subscriptionIds` skipped (or not) on
   * `date` at `addressId`? Only "yes" confirms; a line not found proves nothing.
   */
  async shows(
    context: ActionContext,
    date: string,
    addressId: string,
    subscriptionIds: readonly string[],
    skipped: boolean,
  ): Promise<true | undefined> {
    const rows = await this.readThrough(context, date, true)
    const delivery = flatten(rows).find((entry) => entry.date === date && entry.order.address_id === addressId)
    if (!delivery) return undefined
    const lines = delivery.order.line_items
    const all = subscriptionIds.every((id) =>
      lines.some(
        (line) => line.subscription_id === id && line.plan_type !== 'onetime' && (line.is_skipped === true) === skipped,
      ),
    )
    return all ? true : undefined
  }

  /** A fresh upstream read of the schedule up to `date` (never the cache). */
  private async readThrough(context: ActionContext, date: string, confirming: boolean) {
    const { pipeline } = this
    const days = Math.max(1, Math.ceil((Date.parse(`${date}T00:00:00Z`) - Date.now()) / 86_400_000) + 1)
    const schedule = await pipeline
      .upstream()
      .customers.deliverySchedule(
        context.shopper.customerId,
        { future_interval: days, delivery_count_future: MAX_DATES },
        confirming ? pipeline.confirmingReadOptions(context) : pipeline.readOptions(context),
      )
    return schedule.deliveries
  }

  private present(delivery: ScheduledDelivery, charges: readonly Charge[]): PublicDelivery {
    const { policy } = this.pipeline
    const { date, order } = delivery
    const addressId = order.address_id ?? ''
    const sameDay = (status: string) =>
      charges.find(
        (charge) => charge.status === status && charge.address_id === addressId && charge.scheduled_at === date,
      )
    const lines = order.line_items.map((line) => {
      const kind = line.plan_type === 'onetime' ? ('onetime' as const) : ('subscription' as const)
      const skipped = line.is_skipped === true
      return {
        kind,
        id: line.subscription_id ?? '',
        title: line.product_title,
        variant_title: line.variant_title,
        external_product_id: line.external_product_id,
        external_variant_id: line.external_variant_id,
        quantity: line.quantity,
        unit_price: line.unit_price,
        price: line.subtotal_price,
        skipped,
        skippable: kind === 'subscription' && line.is_skippable !== false && !skipped,
      }
    })
    const subscriptionLines = lines.filter((line) => line.kind === 'subscription')
    const skippedCount = subscriptionLines.filter((line) => line.skipped).length
    // The schedule names one charge per delivery (the queued one when there is one); the shopper's upcoming charges
    // tell which charge holds what.
    const queued = sameDay('queued')?.id ?? (skippedCount < subscriptionLines.length ? (order.charge_id ?? null) : null)
    const parked = sameDay('skipped')?.id ?? (skippedCount > 0 && !queued ? (order.charge_id ?? null) : null)
    const status =
      skippedCount > 0 && skippedCount === subscriptionLines.length
        ? 'skipped'
        : skippedCount > 0
          ? 'partly_skipped'
          : queued
            ? 'queued'
            : 'scheduled'
    return {
      date,
      address_id: addressId,
      status,
      charge_id: queued,
      skipped_charge_id: parked,
      skippable: policy.actions.skip && date > dateFromToday(0) && lines.some((line) => line.skippable),
      unskippable: policy.actions.unskip && parked !== null && skippedCount > 0,
      lines: lines.filter((line) => line.id !== ''),
    }
  }
}

function flatten(deliveries: readonly UpstreamDelivery[]): ScheduledDelivery[] {
  return deliveries.flatMap((delivery) =>
    delivery.orders
      .filter((order) => order.address_id !== null)
      .map((order) => ({ date: delivery.date, order }) satisfies ScheduledDelivery),
  )
}

function emptyOrder(addressId: string): UpstreamOrder {
  return {
    id: null,
    address_id: addressId,
    charge_id: null,
    line_items: [],
    payment_method: null,
    shipping_address: null,
  }
}
