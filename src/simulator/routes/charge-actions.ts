import type { FastifyInstance } from 'fastify'
import { billCharge } from '../billing.ts'
import type { Simulator } from '../context.ts'
import { assertApplicable, readDiscountRef, setChargeDiscount } from '../discount-rules.ts'
import { fieldError, unprocessable } from '../errors.ts'
import type { AppliedDiscount } from '../retention-types.ts'
import { findCharge } from './charges.ts'
import { bodyOf, idParam } from './helpers.ts'

/**
 * Actions on one queued charge: a discount on just this charge, and "order now". Each needs the charge QUEUED,
 * like skip; otherwise Recharge answers 422 naming the charge.
 */
export async function chargeActionRoutes(app: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  app.post('/charges/:id/apply_discount', async (request) => {
    const state = sim.state
    const charge = findCharge(state, idParam(request))
    const body = bodyOf(request)
    return sim.locks.write(charge.address_id, () => {
      if (charge.status !== 'queued') {
        throw unprocessable({ charge: ['A discount can only be applied to a queued charge.'] })
      }
      const { discount, field } = readDiscountRef(state, body)
      if (charge.discounts.length > 0) throw fieldError(field, 'This charge already has a discount applied.')
      const address = state.addresses.get(charge.address_id)
      if (address && address.discounts.length > 0) {
        throw fieldError(field, 'The address of this charge already has a discount applied.')
      }
      assertApplicable(state, discount, { customerId: charge.customer.id, items: charge.line_items }, field)
      setChargeDiscount(state, charge, discount)
      return { charge }
    })
  })

  app.post('/charges/:id/remove_discount', async (request) => {
    const state = sim.state
    const charge = findCharge(state, idParam(request))
    return sim.locks.write(charge.address_id, () => {
      if (charge.status !== 'queued') {
        throw unprocessable({ charge: ['A discount can only be removed from a queued charge.'] })
      }
      const current = charge.discounts[0] as AppliedDiscount | undefined
      if (current) setChargeDiscount(state, charge, null)
      return { charge }
    })
  })

  app.post('/charges/:id/process', async (request) => {
    const state = sim.state
    const charge = findCharge(state, idParam(request))
    return sim.locks.write(charge.address_id, () => {
      if (charge.status !== 'queued') throw unprocessable({ charge: ['Only a queued charge can be processed.'] })
      billCharge(state, charge, state.today())
      return { charge }
    })
  })
}
