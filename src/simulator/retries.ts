import { randomBytes } from 'node:crypto'
import { addDays } from './dates.ts'
import { orderFromCharge } from './orders.ts'
import type { SimState } from './state.ts'
import { customerView } from './views.ts'

/** Days between two attempts at a failed charge. */
const RETRY_EVERY_DAYS = 3

/**
 * Dunning retries, run with recurring billing when the simulator clock moves forward: every ERROR charge whose
 * `retry_date` has come is tried again with its address's payment method.
 * - The method is still `invalid`: the charge stays in error, `retry_date` moves on 3 days, `charge/failed` is
 *   emitted.
 * - Otherwise (the shopper got a working card onto the address, e.g. `POST /payment_methods` then
 *   `PUT /addresses/{id}` with its `payment_method_id`): the charge succeeds with its order, `charge/paid` and
 *   `order/created` are emitted, and the customer leaves dunning once no failed charge is left.
 * Returns the ids of the charges that succeeded.
 */
export function retryFailedCharges(state: SimState): number[] {
  const now = state.now()
  const paid: number[] = []
  for (const charge of [...state.charges.values()]) {
    if (charge.status !== 'error' || !charge.retry_date || Date.parse(charge.retry_date) > now) continue
    const address = state.addresses.get(charge.address_id)
    const method = address?.payment_method_id ? state.paymentMethods.get(address.payment_method_id) : undefined
    const stamp = state.timestamp()
    if (!method || method.status === 'invalid') {
      charge.retry_date = `${addDays(state.today(), RETRY_EVERY_DAYS)}T09:00:00+00:00`
      charge.updated_at = stamp
      state.emit('charge/failed', { charge })
      continue
    }
    charge.status = 'success'
    charge.error = null
    charge.error_type = null
    charge.retry_date = null
    charge.processed_at = stamp
    charge.updated_at = stamp
    charge.orders_count = 1
    charge.external_transaction_id = { payment_processor: `ch_sim${randomBytes(10).toString('hex')}` }
    charge.external_order_id = { ecommerce: String(5_100_000_000 + charge.id) }
    const order = orderFromCharge(state, charge)
    state.orders.set(order.id, order)
    state.emit('charge/paid', { charge })
    state.emit('order/created', { order })
    paid.push(charge.id)

    const customer = state.customers.get(charge.customer.id)
    const stillFailing = [...state.charges.values()].some(
      (other) => other.customer.id === charge.customer.id && other.status === 'error',
    )
    if (customer && !stillFailing) {
      customer.has_payment_method_in_dunning = false
      customer.has_valid_payment_method = true
      customer.updated_at = state.naiveTimestamp()
      state.emit('customer/updated', () => ({ customer: customerView(state, customer) }))
    }
  }
  return paid
}
