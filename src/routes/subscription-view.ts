import type { FastifyRequest } from 'fastify'
import { spendAs } from '../recharge/budget/spender.ts'
import type { Charge } from '../recharge/schemas/charges.ts'
import type { Subscription } from '../recharge/schemas/subscriptions.ts'
import { shopperOf } from '../shopper/http.ts'
import { publicSubscription } from '../shopper/mappers.ts'
import { allowedActions } from '../shopper/policy-checks.ts'
import type { ShopperServices } from '../shopper/service.ts'

/**
 * How the subscription routes (subscriptions.ts, retention.ts) answer with a subscription: its public shape, with
 * the actions the shopper may take now and its pause (src/shopper/pause.ts).
 */
export function subscriptionView(services: Pick<ShopperServices, 'records' | 'policy' | 'pauses'>) {
  const { records, policy, pauses } = services

  /**
   * The shopper's upcoming charges, which decide whether skip/unskip are offered. When they cannot be read (Recharge
   * failing with nothing cached), the subscriptions are still shown, without those two actions. On the list they are
   * an optional read (src/recharge/queue/gcra.ts): it books ahead of background work, but only halfway into the
   * interactive reserve, so when many shoppers arrive cold at once the reads their answers need go first. One
   * subscription, and the answer to a write (whose charges the write just invalidated), read them as the interactive
   * call they are: a shopper who just skipped must be offered unskip. Null when they could not be read.
   */
  async function upcoming(request: FastifyRequest, optional = false): Promise<Charge[] | null> {
    try {
      const customerId = shopperOf(request).customerId
      const read = () => records.upcomingCharges(customerId)
      return (await (optional ? spendAs({ kind: 'optional' }, read) : read())).rows
    } catch (error) {
      request.log.warn({ err: { message: (error as Error).message } }, 'upcoming charges unavailable; skip not offered')
      return null
    }
  }

  /** One subscription in its public shape (the answer to a read of it, or to a write on it). */
  async function present(request: FastifyRequest, subscription: Subscription) {
    const [charges, paused] = await Promise.all([
      upcoming(request),
      pauses.pausedUntil(shopperOf(request).customerId, [subscription]),
    ])
    const until = paused.get(subscription.id) ?? null
    return publicSubscription(subscription, allowedActions(policy, subscription, charges ?? [], until), until)
  }

  return { upcoming, present }
}
