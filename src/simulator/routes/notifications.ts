import type { FastifyInstance } from 'fastify'
import type { Simulator } from '../context.ts'
import { sendNotification } from '../notifications.ts'
import { findCustomer } from './customers.ts'
import { bodyOf, idParam } from './helpers.ts'

/**
 * `POST /customers/{id}/notifications` → `200 {}` once the email is queued. The reference shows no response body
 * worth reading (the SDK's `sendCustomerNotification` resolves to void), so the answer is an empty object.
 */
export async function notificationRoutes(app: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  app.post('/customers/:id/notifications', async (request) => {
    const state = sim.state
    const customer = findCustomer(state, idParam(request))
    sendNotification(state, customer, bodyOf(request))
    return {}
  })
}
