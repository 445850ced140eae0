import type { FastifyInstance } from 'fastify'
import type { Simulator } from '../context.ts'
import { skipFutureCharge } from '../future-skips.ts'
import { findAddress } from './addresses.ts'
import { bodyOf, idParam } from './helpers.ts'

/** `POST /addresses/{id}/charges/skip` `{date, subscription_ids}` → `{"charge": {…}}` (the skipped charge). */
export async function addressSkipRoutes(app: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  app.post('/addresses/:id/charges/skip', async (request) => {
    const state = sim.state
    const address = findAddress(state, idParam(request))
    const body = bodyOf(request)
    return sim.locks.write(address.id, () => ({ charge: skipFutureCharge(state, address, body) }))
  })
}
