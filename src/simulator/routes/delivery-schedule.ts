import type { FastifyInstance } from 'fastify'
import type { Simulator } from '../context.ts'
import { deliverySchedule, scheduleWindow } from '../delivery-schedule.ts'
import { fieldError } from '../errors.ts'
import { findCustomer } from './customers.ts'
import { idParam } from './helpers.ts'

/** `GET /customers/{id}/delivery_schedule?delivery_count_future=&future_interval=&date_max=` */
export async function deliveryScheduleRoutes(app: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  app.get('/customers/:id/delivery_schedule', async (request) => {
    const state = sim.state
    const customer = findCustomer(state, idParam(request))
    const window = scheduleWindow(state, request.query as Record<string, string | undefined>, fieldError)
    return deliverySchedule(state, customer, window)
  })
}
