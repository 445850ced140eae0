import type { IntervalUnit } from './dates.ts'
import { localPrice, PRODUCTS, type ProductSeed } from './seed-data.ts'
import type { SimState } from './state.ts'
import type { Plan, Product, ProductVariant } from './types.ts'

/** The catalog of the data set: every seeded product (keyed by external id) with its variants, then its plans. */
export function seedCatalog(state: SimState, createdOffset: string): void {
  for (const seed of PRODUCTS) {
    seedProduct(state, seed, createdOffset)
    seedPlans(state, seed, createdOffset)
  }
}

function seedProduct(state: SimState, seed: ProductSeed, createdOffset: string): void {
  const image = (name: string) => {
    const base = `https://cdn.simulator.invalid/products/${seed.id}/${name}`
    return {
      large: `${base}_large.jpg`,
      medium: `${base}_medium.jpg`,
      original: `${base}.jpg`,
      small: `${base}_small.jpg`,
    }
  }
  const variants: ProductVariant[] = seed.variants.map((variant) => ({
    dimensions: { height: null, length: null, unit: 'cm', width: null },
    external_variant_id: variant.id,
    fulfillment_service: 'manual',
    image: image(variant.sku.toLowerCase()),
    option_values: [{ label: variant.title }],
    prices: {
      compare_at_price: variant.compareAt === null ? null : state.money(localPrice(state, variant.compareAt)),
      unit_price: state.money(localPrice(state, variant.cents)),
    },
    requires_shipping: true,
    sku: variant.sku,
    tax_code: null,
    taxable: true,
    title: variant.title,
    weight: { unit: 'g', value: variant.grams },
  }))
  const product: Product = {
    brand: seed.vendor,
    created_at: createdOffset,
    description: seed.description,
    external_created_at: createdOffset,
    external_product_id: seed.id,
    external_updated_at: createdOffset,
    images: [{ ...image('main'), sort_order: 1 }],
    options: [
      {
        name: seed.option,
        position: 1,
        values: seed.variants.map((variant, index) => ({ label: variant.title, position: index + 1 })),
      },
    ],
    published_at: createdOffset,
    requires_shipping: true,
    title: seed.title,
    updated_at: createdOffset,
    variants,
    vendor: seed.vendor,
  }
  state.products.set(product.external_product_id, product)
}

/** The product's plans, in the seed's order (their sort order). */
function seedPlans(state: SimState, seed: ProductSeed, createdOffset: string): void {
  seed.plans.forEach((planSeed, index) => {
    const plan: Plan = {
      id: state.nextId('plan', 4_100_001),
      channel_settings: {
        api: { display: true },
        checkout_page: { display: true },
        customer_portal: { display: true },
        merchant_portal: { display: true },
      },
      created_at: createdOffset,
      deleted_at: null,
      discount_amount: planSeed.discount === null ? null : planSeed.discount.toFixed(2),
      discount_type: planSeed.discount === null ? null : 'percentage',
      external_product_id: { ecommerce: seed.id },
      external_variant_ids: [],
      has_variant_restrictions: false,
      sort_order: index,
      subscription_preferences:
        planSeed.type === 'onetime'
          ? null
          : {
              apply_cutoff_date_to_checkout: false,
              charge_interval_frequency: planSeed.chargeEvery as number,
              cutoff_day_of_month: null,
              cutoff_day_of_week: null,
              expire_after_specific_number_of_charges: null,
              interval_unit: planSeed.unit as IntervalUnit,
              order_day_of_month: null,
              order_day_of_week: null,
              order_interval_frequency: planSeed.orderEvery as number,
            },
      title: planSeed.title,
      type: planSeed.type,
      updated_at: createdOffset,
    }
    state.plans.set(plan.id, plan)
  })
}
