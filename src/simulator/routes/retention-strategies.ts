import type { FastifyInstance } from 'fastify'
import type { Simulator } from '../context.ts'
import { fieldError, notFound } from '../errors.ts'
import { paginate, parseListQuery } from '../pagination.ts'
import type { RetentionStrategy } from '../retention-types.ts'
import { dateRangeFilter, idParam, idsFilter, listEnvelope } from './helpers.ts'

const SORTS = ['id-asc', 'id-desc', 'created_at-asc', 'created_at-desc', 'updated_at-asc', 'updated_at-desc']
const INCENTIVES = new Set(['delay_subscription', 'discount', 'skip_charge', 'swap_product'])

/** Retention strategies: per cancellation reason, the text and incentive shown before a cancellation goes through. */
export async function retentionStrategyRoutes(app: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  app.get('/retention_strategies', async (request) => {
    const query = parseListQuery(request.query as Record<string, unknown>, { defaultSort: 'id-asc', sorts: SORTS })
    const ids = idsFilter(query.filters.ids)
    const incentive = query.filters.incentive_type
    if (incentive !== undefined && !INCENTIVES.has(incentive)) {
      throw fieldError('incentive_type', `Must be one of: ${[...INCENTIVES].join(', ')}.`)
    }
    const inRange = dateRangeFilter(query.filters)
    const matches = [...sim.state.retentionStrategies.values()].filter(
      (strategy) =>
        (ids === null || ids.has(strategy.id)) &&
        (incentive === undefined || strategy.incentive_type === incentive) &&
        inRange(strategy),
    )
    const page = paginate(matches, query, (strategy, field) => String(strategy[field as keyof RetentionStrategy]))
    return listEnvelope('retention_strategies', page, (strategy) => strategy)
  })

  app.get('/retention_strategies/:id', async (request) => {
    const strategy = sim.state.retentionStrategies.get(idParam(request))
    if (!strategy) throw notFound()
    return { retention_strategy: strategy }
  })
}
