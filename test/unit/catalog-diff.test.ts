import { describe, expect, it } from 'vitest'
import { desiredProduct } from '../../src/catalog/desired.ts'
import { type CurrentState, diffCatalog } from '../../src/catalog/diff.ts'
import { type CatalogFeed, catalogFeedSchema } from '../../src/catalog/feed.ts'
import { planSchema, type RechargePlan } from '../../src/recharge/schemas/plans.ts'
import { productSchema } from '../../src/recharge/schemas/products.ts'

const feed: CatalogFeed = catalogFeedSchema.parse({
  version: 1,
  products: [
    {
      external_product_id: 'a',
      title: 'Alpha',
      image: 'https://img.example/a.jpg',
      options: ['Size'],
      variants: [{ external_variant_id: 'a1', title: 'Small', options: ['Small'], price: '10.00' }],
      offers: [
        {
          type: 'subscription',
          interval_unit: 'week',
          intervals: [1, 2],
          discount: { type: 'percentage', amount: '10' },
        },
        { type: 'onetime' },
      ],
    },
  ],
})

/** What Recharge would hold after applying the desired state exactly (the simulator's echo of our bodies). */
function mirror(products: CatalogFeed['products']): CurrentState {
  const desired = products.map(desiredProduct)
  let nextId = 1000
  const newId = () => {
    nextId += 1
    return nextId
  }
  return {
    products: new Map(
      desired.map((d) => [
        d.external_product_id,
        productSchema.parse({ ...d.body, images: d.body.images, options: d.body.options, variants: d.body.variants }),
      ]),
    ),
    plans: new Map(
      desired.map((d) => [
        d.external_product_id,
        d.plans.map((plan) =>
          planSchema.parse({
            ...plan.body,
            id: newId(),
            // Recharge formats amounts with two decimals; the diff compares them as decimals.
            discount_amount: plan.body.discount_amount === null ? null : Number(plan.body.discount_amount).toFixed(2),
          }),
        ),
      ]),
    ),
  }
}

describe('catalog diff', () => {
  it('plans creates for an empty store', () => {
    const plan = diffCatalog(feed.products.map(desiredProduct), { products: new Map(), plans: new Map() })
    expect(plan.totals).toEqual({
      productCreates: 1,
      productUpdates: 0,
      productDeletes: 0,
      planCreates: 3,
      planUpdates: 0,
      planDeletes: 0,
    })
    expect(plan.changes[0]?.planCreates.map((p) => p.key)).toEqual([
      'subscription:week:1:1',
      'subscription:week:2:2',
      'onetime',
    ])
  })

  it('finds nothing to do when Recharge matches the feed (idempotence)', () => {
    const plan = diffCatalog(feed.products.map(desiredProduct), mirror(feed.products))
    expect(plan.changes).toEqual([])
    expect(plan.unchanged).toBe(1)
  })

  it('writes only the fields and plans that changed', () => {
    const current = mirror(feed.products)
    const changed = structuredClone(feed)
    const product = changed.products[0]!
    product.variants[0]!.price = '12.00'
    product.offers[0] = {
      type: 'subscription',
      interval_unit: 'week',
      intervals: [1, 4],
      discount: { type: 'percentage', amount: '15' },
    }
    const plan = diffCatalog(changed.products.map(desiredProduct), current)
    const change = plan.changes[0]!
    expect(change.product).toBe('update')
    expect(change.fields).toEqual(['variants[a1].price'])
    expect(change.planCreates.map((p) => p.key)).toEqual(['subscription:week:4:4'])
    expect(change.planUpdates.map((p) => [p.key, p.fields])).toEqual([['subscription:week:1:1', ['discount_amount']]])
    expect(change.planDeletes.map((p) => [p.key, p.reason])).toEqual([['subscription:week:2:2', 'not in feed']])
  })

  it('deletes duplicate plans of one key (left by a crashed run elsewhere), keeping the oldest', () => {
    const current = mirror(feed.products)
    const plans = current.plans.get('a') as RechargePlan[]
    const duplicate = { ...plans[0]!, id: '999999' }
    const withDuplicate: CurrentState = { ...current, plans: new Map([['a', [...plans, duplicate]]]) }
    const plan = diffCatalog(feed.products.map(desiredProduct), withDuplicate)
    expect(plan.changes[0]?.planDeletes).toEqual([{ id: '999999', key: 'subscription:week:1:1', reason: 'duplicate' }])
  })

  it('deletes products the feed no longer lists, unless told not to', () => {
    const current = mirror(feed.products)
    expect(diffCatalog([], current).totals).toMatchObject({ productDeletes: 1, planDeletes: 3 })
    expect(diffCatalog([], current, { deleteMissing: false }).changes).toEqual([])
  })

  it('treats equal amounts written differently as equal ("10" vs "10.00")', () => {
    const current = mirror(feed.products)
    const product = current.products.get('a')!
    product.variants[0]!.prices.unit_price = '10'
    expect(diffCatalog(feed.products.map(desiredProduct), current).changes).toEqual([])
  })
})
