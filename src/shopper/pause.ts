import type { Subscription } from '../recharge/schemas/subscriptions.ts'
import { type PauseRecord, type PauseStore, pausedUntil } from './pause-store.ts'
import type { ActionContext, WritePipeline } from './pipeline.ts'
import { dateFromToday, unprocessable } from './policy-checks.ts'

/** How long a pause lasts: until a date, for a number of deliveries, or (a retention offer) days past the next date. */
export type PauseLength = { until: string } | { deliveries: number } | { days: number }

/**
 * Pause and resume, on the shared write pipeline. Recharge 2021-11 models a pause as `set_next_charge_date` with the
 * `pause` flag: the subscription stays active and its next charge moves to the day the pause ends. A resume moves it
 * back (to the date it had before the pause, or tomorrow when that has passed) without the flag. The bridge keeps the
 * pause it made (src/shopper/pause-store.ts) so the shopper's lists can show it and offer `resume`.
 */
export class PauseActions {
  private readonly pipeline: WritePipeline
  private readonly store: PauseStore

  constructor(options: { pipeline: WritePipeline; store: PauseStore }) {
    this.pipeline = options.pipeline
    this.store = options.store
  }

  /** Each paused subscription of `rows` → the day its pause ends. */
  async pausedUntil(customerId: string, rows: readonly Subscription[]): Promise<Map<string, string>> {
    const paused = new Map<string, string>()
    if (!rows.some((row) => row.status === 'active')) return paused
    const records = await this.store.forCustomer(customerId)
    const today = dateFromToday(0)
    for (const row of rows) {
      const until = pausedUntil(records.get(row.id), row, today)
      if (until) paused.set(row.id, until)
    }
    return paused
  }

  /**
   * A webhook event: `subscription/paused` (a pause made anywhere: here, the hosted portal, the merchant) records the
   * pause until the subscription's new next charge date. Where it resumes to is not in the payload: a resume then
   * goes to tomorrow.
   */
  async observe(topic: string, record: Record<string, unknown>): Promise<void> {
    if (topic !== 'subscription/paused') return
    const id = idOf(record.id)
    const customerId = idOf(record.customer_id)
    const next = typeof record.next_charge_scheduled_at === 'string' ? record.next_charge_scheduled_at.slice(0, 10) : ''
    if (!id || !customerId || !/^\d{4}-\d{2}-\d{2}$/.test(next)) return
    const current = (await this.store.forCustomer(customerId)).get(id)
    if (current?.resumes_on === next) return // our own pause, heard back
    await this.store.set(customerId, id, { resumes_on: next, resume_to: null })
  }

  async pause(context: ActionContext, subscriptionId: string, length: PauseLength): Promise<Subscription> {
    const { pipeline } = this
    await pipeline.admit(context, ['pause'])
    const customerId = context.shopper.customerId
    const subscription = await pipeline.records.ownSubscription(customerId, subscriptionId)
    const next = subscription.next_charge_scheduled_at
    if (subscription.status !== 'active' || !next) {
      throw unprocessable('Only an active subscription with an upcoming delivery can be paused.')
    }
    const until = this.resumeDate(subscription, next, length)
    // A pause of a paused subscription extends it; a resume still goes back to the date before the first pause.
    const current = (await this.store.forCustomer(customerId)).get(subscription.id)
    const record: PauseRecord = {
      resumes_on: until,
      resume_to: pausedUntil(current, subscription, dateFromToday(0)) ? (current?.resume_to ?? null) : next,
    }
    const paused = (updated: Subscription) => this.store.set(customerId, subscription.id, record).then(() => updated)
    return pipeline.write(
      context,
      [`subscription:${subscription.id}`],
      async () =>
        paused(
          await pipeline
            .upstream()
            .subscriptions.pause(subscription.id, until, pipeline.writeOptions(context, subscription.address_id)),
        ),
      async () => {
        const read = await this.confirmDate(context, subscription.id, until)
        return read ? paused(read) : undefined
      },
    )
  }

  async resume(context: ActionContext, subscriptionId: string): Promise<Subscription> {
    const { pipeline } = this
    await pipeline.admit(context, ['resume'])
    const customerId = context.shopper.customerId
    const subscription = await pipeline.records.ownSubscription(customerId, subscriptionId)
    const record = (await this.store.forCustomer(customerId)).get(subscription.id)
    const tomorrow = dateFromToday(1)
    if (!pausedUntil(record, subscription, dateFromToday(0))) throw unprocessable('This subscription is not paused.')
    const target = record?.resume_to && record.resume_to >= tomorrow ? record.resume_to : tomorrow
    const resumed = (updated: Subscription) => this.store.clear(customerId, subscription.id).then(() => updated)
    return pipeline.write(
      context,
      [`subscription:${subscription.id}`],
      async () =>
        resumed(
          await pipeline
            .upstream()
            .subscriptions.setNextChargeDate(
              subscription.id,
              target,
              pipeline.writeOptions(context, subscription.address_id),
            ),
        ),
      async () => {
        const read = await this.confirmDate(context, subscription.id, target)
        return read ? resumed(read) : undefined
      },
    )
  }

  /** The day the pause ends, inside the policy's bounds (422 naming the field otherwise). */
  private resumeDate(subscription: Subscription, next: string, length: PauseLength): string {
    const { max_days, max_deliveries } = this.pipeline.policy.pause
    const latest = dateFromToday(max_days)
    let until: string
    let field = 'body.until'
    if ('until' in length) {
      until = length.until
      if (!isCalendarDate(until)) {
        throw unprocessable('until is not a calendar date.', [{ field, message: 'must be a real date (YYYY-MM-DD)' }])
      }
      if (until <= next) {
        throw unprocessable(`A pause must end after the next delivery date (${next}).`, [
          { field, message: `must be after ${next}` },
        ])
      }
    } else if ('deliveries' in length) {
      field = 'body.deliveries'
      if (length.deliveries > max_deliveries) {
        throw unprocessable(`A pause may leave out at most ${max_deliveries} deliveries.`, [
          { field, message: `must be at most ${max_deliveries}` },
        ])
      }
      const unit = subscription.order_interval_unit
      const every = subscription.order_interval_frequency
      if (!unit || !every) throw unprocessable('This subscription has no delivery schedule to count deliveries on.')
      until = addInterval(next, unit, every * length.deliveries)
    } else {
      until = addInterval(next, 'day', length.days)
    }
    if (until > latest) {
      throw unprocessable(`A pause may last until ${latest} at the latest.`, [
        { field, message: `must end by ${latest}` },
      ])
    }
    return until
  }

  private async confirmDate(context: ActionContext, id: string, date: string): Promise<Subscription | undefined> {
    const { pipeline } = this
    const current = await pipeline.upstream().subscriptions.get(id, pipeline.confirmingReadOptions(context))
    return current.next_charge_scheduled_at === date ? current : undefined
  }
}

function idOf(value: unknown): string | null {
  if (typeof value === 'number' && Number.isInteger(value)) return String(value)
  return typeof value === 'string' && /^\d{1,19}$/.test(value) ? value : null
}

function isCalendarDate(value: string): boolean {
  const parsed = new Date(`${value}T00:00:00Z`)
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === value
}

/** `date` (YYYY-MM-DD) plus `count` days, weeks or months, in UTC; a month end clamps (Jan 31 + 1 month = Feb 28). */
export function addInterval(date: string, unit: 'day' | 'week' | 'month', count: number): string {
  const start = new Date(`${date}T00:00:00Z`)
  if (unit === 'month') {
    const target = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + count, 1))
    const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate()
    target.setUTCDate(Math.min(start.getUTCDate(), lastDay))
    return target.toISOString().slice(0, 10)
  }
  const days = unit === 'week' ? count * 7 : count
  return new Date(start.getTime() + days * 86_400_000).toISOString().slice(0, 10)
}
