import type { FastifyInstance } from 'fastify'
import type { Simulator } from '../context.ts'
import { fieldError, missingRequired, notFound, SimError } from '../errors.ts'
import { paginate, parseListQuery } from '../pagination.ts'
import type { SimState } from '../state.ts'
import type { Webhook } from '../types.ts'
import { bodyOf, idParam, listEnvelope } from './helpers.ts'

/** Topics the simulator emits (and accepts registrations for). */
export const WEBHOOK_TOPICS = [
  'address/created',
  'address/updated',
  'async_batch/processed',
  'charge/created',
  'charge/deleted',
  'charge/paid',
  'charge/updated',
  'checkout/created',
  'checkout/processed',
  'checkout/updated',
  'customer/activated',
  'customer/created',
  'customer/deactivated',
  'customer/deleted',
  'customer/updated',
  'onetime/created',
  'onetime/deleted',
  'onetime/updated',
  'order/created',
  'plan/created',
  'plan/deleted',
  'plan/updated',
  'product/created',
  'product/deleted',
  'product/updated',
  'subscription/activated',
  'subscription/cancelled',
  'subscription/created',
  'subscription/deleted',
  'subscription/skipped',
  'subscription/swapped',
  'subscription/unskipped',
  'subscription/updated',
  'subscription/paused',
] as const

/**
 * Topics Recharge documents for 2021-11 that the simulator accepts registrations for but does not emit (no state
 * change of the simulator produces them), so a bridge can register its full set as it would against Recharge.
 */
const REGISTRABLE_ONLY = [
  'app/uninstalled',
  'bundle_selection/created',
  'bundle_selection/deleted',
  'bundle_selection/updated',
  'charge/failed',
  'charge/max_retries_reached',
  'charge/refunded',
  'charge/uncaptured',
  'charge/upcoming',
  'checkout/completed',
  'customer/payment_method_updated',
  'order/cancelled',
  'order/deleted',
  'order/payment_captured',
  'order/processed',
  'order/success',
  'order/upcoming',
  'order/updated',
  'recharge/uninstalled',
  'store/updated',
  'subscription/removed_from_skipped_charge',
]

/** Every topic a webhook may be registered for. */
export const REGISTRABLE_TOPICS: readonly string[] = [...WEBHOOK_TOPICS, ...REGISTRABLE_ONLY]

const TOPICS = new Set<string>(REGISTRABLE_TOPICS)

function findWebhook(state: SimState, id: number): Webhook {
  const webhook = state.webhooks.get(id)
  if (!webhook) throw notFound()
  return webhook
}

export async function webhookRoutes(app: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  app.get('/webhooks', async (request) => {
    const state = sim.state
    const query = parseListQuery(request.query as Record<string, unknown>, {
      defaultSort: 'id-desc',
      sorts: ['id-asc', 'id-desc'],
    })
    const matches = [...state.webhooks.values()].filter(
      (webhook) =>
        (query.filters.topic === undefined || webhook.topic === query.filters.topic) &&
        (query.filters.address === undefined || webhook.address === query.filters.address),
    )
    return listEnvelope(
      'webhooks',
      paginate(matches, query, () => 0),
      (webhook) => webhook,
    )
  })

  app.get('/webhooks/:id', async (request) => ({ webhook: findWebhook(sim.state, idParam(request)) }))

  app.post('/webhooks', async (request, reply) => {
    const state = sim.state
    const body = bodyOf(request, 'webhook')
    const missing = ['address', 'topic'].filter((key) => typeof body[key] !== 'string' || body[key] === '')
    if (missing.length > 0) throw missingRequired(missing)
    const address = readAddress(body.address)
    const topic = readTopic(body.topic)
    const duplicate = [...state.webhooks.values()].some(
      (webhook) => webhook.address === address && webhook.topic === topic,
    )
    if (duplicate)
      throw new SimError(422, { errors: { address: ['A webhook with this address and topic already exists.'] } })
    const webhook: Webhook = {
      id: state.nextId('webhook', 9_100_001),
      address,
      included_objects: Array.isArray(body.included_objects) ? body.included_objects.map(String) : [],
      topic,
      version: '2021-11',
    }
    state.webhooks.set(webhook.id, webhook)
    return reply.code(201).send({ webhook })
  })

  app.put('/webhooks/:id', async (request) => {
    const state = sim.state
    const webhook = findWebhook(state, idParam(request))
    const body = bodyOf(request, 'webhook')
    if (body.address !== undefined) webhook.address = readAddress(body.address)
    if (body.topic !== undefined) webhook.topic = readTopic(body.topic)
    if (Array.isArray(body.included_objects)) webhook.included_objects = body.included_objects.map(String)
    return { webhook }
  })

  app.delete('/webhooks/:id', async (request, reply) => {
    const state = sim.state
    const webhook = findWebhook(state, idParam(request))
    state.webhooks.delete(webhook.id)
    return reply.code(204).send()
  })

  /** Sends one sample delivery of the webhook's topic (a real record of that kind when the seed has one). */
  app.post('/webhooks/:id/test', async (request) => {
    const state = sim.state
    const webhook = findWebhook(state, idParam(request))
    sim.webhooks.enqueueTo(webhook.id, webhook.topic, sampleBody(state, webhook.topic))
    return { webhook }
  })
}

function readAddress(value: unknown): string {
  try {
    const url = new URL(String(value))
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol')
    return url.toString()
  } catch {
    throw fieldError('address', 'Not a valid URL.')
  }
}

function readTopic(value: unknown): string {
  if (typeof value !== 'string' || !TOPICS.has(value)) throw fieldError('topic', 'Invalid topic.')
  return value
}

function sampleBody(state: SimState, topic: string): Record<string, unknown> {
  const kind = topic.split('/')[0] as string
  const first = <T>(map: Map<unknown, T>) => map.values().next().value
  switch (kind) {
    case 'subscription':
      return { subscription: first(state.subscriptions) ?? {} }
    case 'charge':
      return { charge: first(state.charges) ?? {} }
    case 'order':
      return { order: first(state.orders) ?? {} }
    case 'customer':
      return { customer: first(state.customers) ?? {} }
    case 'address':
      return { address: first(state.addresses) ?? {} }
    case 'plan':
      return { plan: first(state.plans) ?? {} }
    case 'product':
      return { product: first(state.products) ?? {} }
    case 'onetime':
      return { onetime: first(state.onetimes) ?? {} }
    case 'checkout':
      return { checkout: first(state.checkouts) ?? {} }
    default:
      return { [kind]: {} }
  }
}
