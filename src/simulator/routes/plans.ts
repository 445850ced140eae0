import type { FastifyInstance } from 'fastify'
import { parseMoney } from '../../infra/money.ts'
import { readExternalId } from '../catalog.ts'
import type { Simulator } from '../context.ts'
import { fieldError, notFound, SimError } from '../errors.ts'
import { paginate, parseListQuery } from '../pagination.ts'
import type { SimState } from '../state.ts'
import { readFrequency, readUnit } from '../subscription-rules.ts'
import type { Plan } from '../types.ts'
import { type Body, bodyOf, dateRangeFilter, idParam, idsFilter, listEnvelope, stringParam } from './helpers.ts'
import { findProduct } from './products.ts'

const SORTS = ['id-asc', 'id-desc', 'updated_at-asc', 'updated_at-desc']
const TYPES = new Set(['subscription', 'prepaid', 'onetime'])
const MAX_BULK = 20

function findPlan(state: SimState, id: number): Plan {
  const plan = state.plans.get(id)
  if (!plan) throw notFound()
  return plan
}

/** Plans (CRUD) and the per-product bulk endpoints (`/products/{external_product_id}/plans-bulk`). */
export async function planRoutes(app: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  app.get('/plans', async (request) => {
    const state = sim.state
    const query = parseListQuery(request.query as Record<string, unknown>, { defaultSort: 'id-desc', sorts: SORTS })
    const { filters } = query
    const ids = idsFilter(filters.ids)
    const type = filters.type
    const inRange = dateRangeFilter(filters)
    const matches = [...state.plans.values()].filter(
      (plan) =>
        (filters.external_product_id === undefined ||
          plan.external_product_id.ecommerce === filters.external_product_id) &&
        (ids === null || ids.has(plan.id)) &&
        (type === undefined || plan.type === type) &&
        inRange(plan),
    )
    const page = paginate(matches, query, (plan, field) => String(plan[field as keyof Plan]))
    return listEnvelope('plans', page, (plan) => plan)
  })

  app.get('/plans/:id', async (request) => ({ plan: findPlan(sim.state, idParam(request)) }))

  app.post('/plans', async (request, reply) => {
    const state = sim.state
    const body = bodyOf(request, 'plan')
    const productId = readExternalId(body.external_product_id)
    if (!productId || !state.products.has(productId)) throw fieldError('external_product_id', 'Product not found.')
    const plan = createPlan(state, productId, body)
    return reply.code(201).send({ plan })
  })

  app.put('/plans/:id', async (request) => {
    const state = sim.state
    const plan = findPlan(state, idParam(request))
    applyPlan(state, plan, bodyOf(request, 'plan'))
    plan.updated_at = state.timestamp()
    state.emit('plan/updated', { plan })
    return { plan }
  })

  app.delete('/plans/:id', async (request, reply) => {
    const state = sim.state
    const plan = findPlan(state, idParam(request))
    state.plans.delete(plan.id)
    state.emit('plan/deleted', { plan: { id: plan.id } })
    return reply.code(204).send()
  })

  app.post('/products/:external_product_id/plans-bulk', async (request, reply) => {
    const state = sim.state
    const product = findProduct(state, stringParam(request, 'external_product_id'))
    const plans = bulkList(bodyOf(request).plans)
    // Validate every plan before creating any: a bulk call is all-or-nothing.
    for (const [index, body] of plans.entries()) validatePlan(state, body, `plans.${index}`, true)
    const created = plans.map((body) => createPlan(state, product.external_product_id, body))
    return reply.code(201).send({ plans: created })
  })

  app.put('/products/:external_product_id/plans-bulk', async (request) => {
    const state = sim.state
    const product = findProduct(state, stringParam(request, 'external_product_id'))
    const plans = bulkList(bodyOf(request).plans)
    const targets = plans.map((body, index) => {
      const plan = state.plans.get(Number(body.id))
      if (!plan || plan.external_product_id.ecommerce !== product.external_product_id) {
        throw fieldError(`plans.${index}.id`, 'Plan not found for this product.')
      }
      validatePlan(state, { ...planAsBody(plan), ...body }, `plans.${index}`, true)
      return { plan, body }
    })
    const now = state.timestamp()
    for (const { plan, body } of targets) {
      applyPlan(state, plan, body)
      plan.updated_at = now
      state.emit('plan/updated', { plan })
    }
    return { plans: targets.map(({ plan }) => plan) }
  })

  app.delete('/products/:external_product_id/plans-bulk', async (request, reply) => {
    const state = sim.state
    const product = findProduct(state, stringParam(request, 'external_product_id'))
    const plans = bulkList(bodyOf(request).plans)
    const ids = plans.map((body, index) => {
      const plan = state.plans.get(Number(body.id))
      if (!plan || plan.external_product_id.ecommerce !== product.external_product_id) {
        throw fieldError(`plans.${index}.id`, 'Plan not found for this product.')
      }
      return plan.id
    })
    for (const id of ids) {
      state.plans.delete(id)
      state.emit('plan/deleted', { plan: { id } })
    }
    return reply.code(204).send()
  })
}

export function createPlan(state: SimState, productId: string, body: Body): Plan {
  validatePlan(state, body, null, true)
  const now = state.timestamp()
  const plan: Plan = {
    id: state.nextId('plan', 4_100_001),
    channel_settings: {
      api: { display: true },
      checkout_page: { display: true },
      customer_portal: { display: true },
      merchant_portal: { display: true },
    },
    created_at: now,
    deleted_at: null,
    discount_amount: null,
    discount_type: null,
    external_product_id: { ecommerce: productId },
    external_variant_ids: [],
    has_variant_restrictions: false,
    sort_order: 0,
    subscription_preferences: null,
    title: '',
    type: 'subscription',
    updated_at: now,
  }
  applyPlan(state, plan, body)
  state.plans.set(plan.id, plan)
  state.emit('plan/created', { plan })
  return plan
}

function validatePlan(state: SimState, body: Body, prefix: string | null, requireAll: boolean): void {
  const field = (name: string) => (prefix ? `${prefix}.${name}` : name)
  if (requireAll && (typeof body.title !== 'string' || body.title === ''))
    throw fieldError(field('title'), 'Missing data for required field.')
  if (requireAll && !TYPES.has(String(body.type)))
    throw fieldError(field('type'), 'Must be one of: subscription, prepaid, onetime.')
  if (body.type !== 'onetime' && requireAll) {
    const preferences = body.subscription_preferences as Body | undefined
    if (!preferences || typeof preferences !== 'object') {
      throw new SimError(422, { errors: { [field('subscription_preferences')]: ['Missing data for required field.'] } })
    }
    readFrequency(preferences.charge_interval_frequency, field('subscription_preferences.charge_interval_frequency'))
    readFrequency(preferences.order_interval_frequency, field('subscription_preferences.order_interval_frequency'))
    readUnit(preferences.interval_unit, field('subscription_preferences.interval_unit'))
  }
  if (body.discount_amount != null && parseMoney(body.discount_amount, 2) === null)
    throw fieldError(field('discount_amount'), 'Not a valid number.')
  if (body.discount_type != null && body.discount_type !== 'percentage' && body.discount_type !== 'fixed_amount') {
    throw fieldError(field('discount_type'), 'Must be one of: percentage, fixed_amount.')
  }
  void state
}

function applyPlan(state: SimState, plan: Plan, body: Body): void {
  if (typeof body.title === 'string') plan.title = body.title
  if (TYPES.has(String(body.type))) plan.type = body.type as Plan['type']
  if (typeof body.sort_order === 'number') plan.sort_order = body.sort_order
  if (body.discount_amount !== undefined) {
    plan.discount_amount =
      body.discount_amount === null
        ? null
        : Number(body.discount_amount).toFixed(state.decimals === 0 && body.discount_type === 'fixed_amount' ? 0 : 2)
  }
  if (body.discount_type !== undefined) plan.discount_type = body.discount_type as Plan['discount_type']
  if (Array.isArray(body.external_variant_ids)) {
    plan.external_variant_ids = body.external_variant_ids.map(String)
    plan.has_variant_restrictions = plan.external_variant_ids.length > 0
  }
  if (body.channel_settings && typeof body.channel_settings === 'object') {
    plan.channel_settings = { ...plan.channel_settings, ...(body.channel_settings as Plan['channel_settings']) }
  }
  if (plan.type === 'onetime') {
    plan.subscription_preferences = null
  } else if (body.subscription_preferences && typeof body.subscription_preferences === 'object') {
    const preferences = body.subscription_preferences as Body
    const current = plan.subscription_preferences
    plan.subscription_preferences = {
      apply_cutoff_date_to_checkout: preferences.apply_cutoff_date_to_checkout === true,
      charge_interval_frequency: Number(preferences.charge_interval_frequency ?? current?.charge_interval_frequency),
      cutoff_day_of_month: (preferences.cutoff_day_of_month as number | null) ?? null,
      cutoff_day_of_week: (preferences.cutoff_day_of_week as number | null) ?? null,
      expire_after_specific_number_of_charges:
        (preferences.expire_after_specific_number_of_charges as number | null) ?? null,
      interval_unit: readUnit(
        preferences.interval_unit ?? current?.interval_unit,
        'subscription_preferences.interval_unit',
      ),
      order_day_of_month: (preferences.order_day_of_month as number | null) ?? null,
      order_day_of_week: (preferences.order_day_of_week as number | null) ?? null,
      order_interval_frequency: Number(preferences.order_interval_frequency ?? current?.order_interval_frequency),
    }
  }
}

function planAsBody(plan: Plan): Body {
  return { title: plan.title, type: plan.type, subscription_preferences: plan.subscription_preferences ?? undefined }
}

function bulkList(value: unknown): Body[] {
  if (!Array.isArray(value) || value.length === 0) throw fieldError('plans', 'Must be a non-empty list.')
  if (value.length > MAX_BULK) throw fieldError('plans', `At most ${MAX_BULK} plans per request.`)
  return value.map((entry) => (entry && typeof entry === 'object' ? (entry as Body) : {}))
}
