import type { FeedOffer } from './feed.ts'

export interface SampleFeedOptions {
  products: number
  /** Prefix of external ids, so several feeds can share a store. Default 'p'. */
  prefix?: string
  currency?: string
}

/**
 * A deterministic catalog feed for examples, tests and benchmarks: two variants per product, a subscription offer at
 * 1/2/4 weeks with 10 % off on every product, a prepaid offer on every fifth, a one-time option on every third.
 * Zero-decimal currencies get whole-unit prices.
 */
export function sampleFeed(options: SampleFeedOptions) {
  const prefix = options.prefix ?? 'p'
  const zeroDecimal = options.currency !== undefined && ['JPY', 'KRW'].includes(options.currency.toUpperCase())
  const price = (i: number, variant: number) =>
    zeroDecimal
      ? String(1000 + ((i * 37 + variant * 500) % 4000))
      : ((1999 + ((i * 137 + variant * 600) % 5000)) / 100).toFixed(2)
  return {
    version: 1 as const,
    ...(options.currency ? { currency: options.currency } : {}),
    products: Array.from({ length: options.products }, (_, i) => {
      const offers: FeedOffer[] = [
        {
          type: 'subscription',
          interval_unit: 'week',
          intervals: [1, 2, 4],
          discount: { type: 'percentage', amount: '10' },
        },
      ]
      if (i % 5 === 0) {
        offers.push({
          type: 'prepaid',
          interval_unit: 'month',
          intervals: [1],
          deliveries_per_charge: 3,
          discount: { type: 'percentage', amount: '15' },
        })
      }
      if (i % 3 === 0) offers.push({ type: 'onetime', discount: null })
      return {
        external_product_id: `${prefix}${100_000 + i}`,
        title: `Sample product ${i + 1}`,
        description: `Deterministic sample product number ${i + 1}.`,
        image: `https://images.example/${prefix}${100_000 + i}.jpg`,
        vendor: 'Sample Roasters',
        options: ['Size'],
        variants: [
          {
            external_variant_id: `${prefix}${100_000 + i}-s`,
            title: 'Small',
            options: ['Small'],
            price: price(i, 0),
            compare_at_price: null,
            sku: `SKU-${i}-S`,
          },
          {
            external_variant_id: `${prefix}${100_000 + i}-l`,
            title: 'Large',
            options: ['Large'],
            price: price(i, 1),
            compare_at_price: null,
            sku: `SKU-${i}-L`,
          },
        ],
        offers,
      }
    }),
  }
}
