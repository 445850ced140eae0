import { setTimeout as delay } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { assertChargeable, chargeOutcome, processCheckout } from '../checkout-processing.ts'
import { applyCheckoutUpdate, createCheckout, shippingRates } from '../checkout-rules.ts'
import type { Simulator } from '../context.ts'
import { conflict, notFound, SimError } from '../errors.ts'
import type { SimState } from '../state.ts'
import type { Checkout } from '../types.ts'
import { bodyOf, stringParam } from './helpers.ts'

function findCheckout(state: SimState, token: string): Checkout {
  const checkout = state.checkouts.get(token)
  if (!checkout) throw notFound()
  return checkout
}

/**
 * Checkouts. `POST /checkouts/{token}/charge` is single-use: while one charge of a checkout is being processed
 * (`checkoutChargeMs`) another gets 409, and once processed every further charge gets 422.
 */
export async function checkoutRoutes(app: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  app.post('/checkouts', async (request, reply) => {
    const state = sim.state
    const checkout = createCheckout(state, bodyOf(request, 'checkout'))
    state.checkouts.set(checkout.token, checkout)
    state.emit('checkout/created', { checkout })
    return reply.code(201).send({ checkout })
  })

  app.get('/checkouts/:token', async (request) => ({
    checkout: findCheckout(sim.state, stringParam(request, 'token')),
  }))

  app.put('/checkouts/:token', async (request) => {
    const state = sim.state
    const checkout = findCheckout(state, stringParam(request, 'token'))
    if (sim.chargingCheckouts.has(checkout.token)) throw conflict('A call to this route is already in progress.')
    applyCheckoutUpdate(state, checkout, bodyOf(request, 'checkout'))
    state.emit('checkout/updated', { checkout })
    return { checkout }
  })

  app.get('/checkouts/:token/shipping_rates', async (request) => {
    const state = sim.state
    return { shipping_rates: shippingRates(state, findCheckout(state, stringParam(request, 'token'))) }
  })

  app.post('/checkouts/:token/charge', async (request) => {
    const state = sim.state
    const checkout = findCheckout(state, stringParam(request, 'token'))
    if (sim.chargingCheckouts.has(checkout.token)) throw conflict('A call to this route is already in progress.')
    const payment = assertChargeable(checkout, bodyOf(request, 'checkout_charge'))
    sim.chargingCheckouts.add(checkout.token)
    try {
      if (sim.options.checkoutChargeMs > 0) await delay(sim.options.checkoutChargeMs)
      if (sim.state !== state) throw notFound() // the simulator was reset meanwhile
      const declined = chargeOutcome(payment.token)
      if (declined) throw new SimError(422, { errors: declined })
      return processCheckout(state, checkout, payment)
    } finally {
      sim.chargingCheckouts.delete(checkout.token)
    }
  })
}
