import { AppError } from '../errors.ts'
import { RechargeConflictError, RechargeValidationError } from '../recharge/errors.ts'
import type { DiscountedCharge } from '../recharge/schemas/retention.ts'
import { chargeNotQueued } from './discounts.ts'
import type { ActionContext, WritePipeline } from './pipeline.ts'

/**
 * One attempt per charge at a time, across replicas: the checkout's charge lock (src/checkout/charge-lock.ts), handed
 * in by the shopper plugin (this layer does not import checkout). An owner token when acquired, null when held.
 */
export interface OrderLock {
  acquire(key: string): Promise<string | null>
  release(key: string, owner: string): Promise<void>
}

/**
 * "Order now": bill one of the shopper's queued charges today (`POST /charges/{id}/process`). It moves money, so it
 * has checkout's protection against a double charge: the route requires an Idempotency-Key (a repeat of one attempt
 * gets the first answer), and a per-charge lock across replicas (src/checkout/charge-lock.ts) keeps a second
 * concurrent attempt with another key from reaching Recharge (ORDER_NOW_IN_PROGRESS). Recharge's own rule, that only
 * a queued charge can be processed, is the backstop. A lost answer is never re-sent: the charge is read back, and a
 * charge no longer queued is answered as billed; otherwise the outcome stays unknown (502/504, `outcome: unknown`).
 */
export class OrderNowActions {
  private readonly pipeline: WritePipeline
  private readonly lock: OrderLock

  constructor(options: { pipeline: WritePipeline; lock: OrderLock }) {
    this.pipeline = options.pipeline
    this.lock = options.lock
  }

  async process(context: ActionContext, chargeId: string): Promise<DiscountedCharge> {
    const { pipeline } = this
    await pipeline.admit(context, ['order_now'])
    const charge = await pipeline.records.ownCharge(context.shopper.customerId, chargeId)
    if (charge.status !== 'queued') throw chargeNotQueued()
    const owner = await this.lock.acquire(`charge:${charge.id}`)
    if (!owner) throw inProgress()
    try {
      const retention = pipeline.upstream().retention
      return await pipeline.write(
        context,
        [`charge:${charge.id}`],
        () =>
          retention.processCharge(charge.id, pipeline.writeOptions(context, charge.address_id)).catch((error) => {
            if (error instanceof RechargeConflictError) throw inProgress()
            if (error instanceof RechargeValidationError && error.fieldErrors.some((e) => e.field === 'charge')) {
              throw chargeNotQueued()
            }
            throw error
          }),
        async () => {
          const read = await retention.charge(charge.id, pipeline.confirmingReadOptions(context))
          return read.status !== 'queued' && read.status !== 'skipped' ? read : undefined
        },
      )
    } finally {
      await this.lock.release(`charge:${charge.id}`, owner)
    }
  }
}

function inProgress(): AppError {
  return new AppError('ORDER_NOW_IN_PROGRESS', {
    detail: 'This delivery is being ordered by another request. Do not order it again: read it in a moment.',
    retryAfter: 2,
  })
}
