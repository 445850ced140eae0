import type { FastifyInstance } from 'fastify'
import { parseMoney } from '../../infra/money.ts'
import type { Simulator } from '../context.ts'
import { fieldError, missingRequired, notFound, SimError } from '../errors.ts'
import { paginate, parseListQuery } from '../pagination.ts'
import type { SimState } from '../state.ts'
import type { Product, ProductVariant } from '../types.ts'
import { type Body, bodyOf, dateRangeFilter, listEnvelope, stringParam } from './helpers.ts'

const SORTS = ['id-asc', 'id-desc', 'updated_at-asc', 'updated_at-desc']

export function findProduct(state: SimState, externalProductId: string): Product {
  const product = state.products.get(externalProductId)
  if (!product) throw notFound()
  return product
}

/**
 * The 2021-11 Products API, keyed by `external_product_id` (a string). Products have no numeric id, so list
 * cursors order them by the numeric value of the external id.
 */
export async function productRoutes(app: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  app.get('/products', async (request) => {
    const state = sim.state
    const query = parseListQuery(request.query as Record<string, unknown>, { defaultSort: 'id-desc', sorts: SORTS })
    const wanted = query.filters.external_product_ids?.split(',').map((id) => id.trim())
    const inRange = dateRangeFilter(query.filters)
    const keyed = [...state.products.values()]
      .filter((product) => (wanted === undefined || wanted.includes(product.external_product_id)) && inRange(product))
      .map((product) => ({ id: numericKey(product.external_product_id), product }))
    const page = paginate(keyed, query, (entry, field) => String(entry.product[field as keyof Product]))
    return listEnvelope('products', page, (entry) => entry.product)
  })

  app.get('/products/:external_product_id', async (request) => ({
    product: findProduct(sim.state, stringParam(request, 'external_product_id')),
  }))

  app.post('/products', async (request, reply) => {
    const state = sim.state
    const body = bodyOf(request, 'product')
    const missing = ['external_product_id', 'title'].filter((key) => body[key] == null || body[key] === '')
    if (missing.length > 0) throw missingRequired(missing)
    const externalId = String(body.external_product_id)
    if (state.products.has(externalId)) {
      throw new SimError(422, {
        errors: { external_product_id: ['A product with this external_product_id already exists.'] },
      })
    }
    const now = state.timestamp()
    const product: Product = {
      brand: null,
      created_at: now,
      description: null,
      external_created_at: now,
      external_product_id: externalId,
      external_updated_at: now,
      images: [],
      options: [],
      published_at: now,
      requires_shipping: true,
      title: String(body.title),
      updated_at: now,
      variants: [],
      vendor: null,
    }
    applyProduct(state, product, body)
    state.products.set(externalId, product)
    state.emit('product/created', { product })
    return reply.code(201).send({ product })
  })

  app.put('/products/:external_product_id', async (request) => {
    const state = sim.state
    const product = findProduct(state, stringParam(request, 'external_product_id'))
    applyProduct(state, product, bodyOf(request, 'product'))
    product.updated_at = state.timestamp()
    state.emit('product/updated', { product })
    return { product }
  })

  app.delete('/products/:external_product_id', async (request, reply) => {
    const state = sim.state
    const product = findProduct(state, stringParam(request, 'external_product_id'))
    state.products.delete(product.external_product_id)
    for (const [id, plan] of state.plans)
      if (plan.external_product_id.ecommerce === product.external_product_id) state.plans.delete(id)
    state.emit('product/deleted', { product: { external_product_id: product.external_product_id } })
    return reply.code(204).send()
  })
}

function applyProduct(state: SimState, product: Product, body: Body): void {
  for (const key of ['title', 'description', 'brand', 'vendor'] as const) {
    if (typeof body[key] === 'string' || (key !== 'title' && body[key] === null)) product[key] = body[key] as string
  }
  if (typeof body.requires_shipping === 'boolean') product.requires_shipping = body.requires_shipping
  if (Array.isArray(body.images)) product.images = body.images as Product['images']
  if (Array.isArray(body.options)) product.options = body.options as Product['options']
  if (Array.isArray(body.variants))
    product.variants = body.variants.map((variant, index) => readVariant(state, variant, index))
}

function readVariant(state: SimState, value: unknown, index: number): ProductVariant {
  const variant = (value && typeof value === 'object' ? value : {}) as Body
  const prices = (variant.prices && typeof variant.prices === 'object' ? variant.prices : {}) as Body
  const field = `variants.${index}`
  if (variant.external_variant_id == null || variant.external_variant_id === '')
    throw fieldError(`${field}.external_variant_id`, 'Missing data for required field.')
  const unit = parseMoney(prices.unit_price, state.decimals)
  if (unit === null) throw fieldError(`${field}.prices.unit_price`, 'Not a valid number.')
  const compare = prices.compare_at_price == null ? null : parseMoney(prices.compare_at_price, state.decimals)
  const image = (variant.image && typeof variant.image === 'object' ? variant.image : {}) as Body
  const text = (key: string) => (typeof image[key] === 'string' ? (image[key] as string) : null)
  return {
    dimensions: { height: null, length: null, unit: 'cm', width: null },
    external_variant_id: String(variant.external_variant_id),
    fulfillment_service: 'manual',
    image: { large: text('large'), medium: text('medium'), original: text('original'), small: text('small') },
    option_values: Array.isArray(variant.option_values) ? (variant.option_values as { label: string }[]) : [],
    prices: { compare_at_price: compare === null ? null : state.money(compare), unit_price: state.money(unit) },
    requires_shipping: variant.requires_shipping !== false,
    sku: typeof variant.sku === 'string' ? variant.sku : null,
    tax_code: null,
    taxable: variant.taxable !== false,
    title: typeof variant.title === 'string' ? variant.title : 'Default',
    weight: {
      unit: 'g',
      value: typeof variant.weight === 'object' && variant.weight ? Number((variant.weight as Body).value) || 0 : 0,
    },
  }
}

/** A stable number for cursor ordering: the external id itself when numeric, else a hash of it. */
function numericKey(externalId: string): number {
  if (/^\d{1,15}$/.test(externalId)) return Number(externalId)
  let hash = 0
  for (const char of externalId) hash = (hash * 31 + char.charCodeAt(0)) % 2_147_483_647
  return hash
}
