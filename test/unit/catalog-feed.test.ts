import { readFileSync } from 'node:fs'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { describe, expect, it } from 'vitest'
import { feedJsonSchema, validateFeed } from '../../src/catalog/feed.ts'
import { sampleFeed } from '../../src/catalog/sample-feed.ts'

const committedSchema = JSON.parse(
  readFileSync(new URL('../../schemas/catalog-feed.schema.json', import.meta.url), 'utf8'),
)
const example = JSON.parse(readFileSync(new URL('../../examples/catalog-feed.json', import.meta.url), 'utf8'))

function jsonSchemaValidator() {
  const ajv = new Ajv2020({ allErrors: true, strict: false })
  addFormats.default(ajv)
  return ajv.compile(committedSchema)
}

describe('catalog feed schema', () => {
  it('the committed JSON Schema is the one generated from the zod schema', () => {
    // Regenerate with: recharge-bridge catalog schema > schemas/catalog-feed.schema.json
    expect(committedSchema).toEqual(feedJsonSchema())
  })

  it('the example feed is valid under both the JSON Schema and the zod schema', () => {
    const validate = jsonSchemaValidator()
    expect(validate(example), JSON.stringify(validate.errors)).toBe(true)
    expect(validateFeed(example, 'USD').ok).toBe(true)
  })

  it('the JSON Schema and the zod schema agree on what is malformed', () => {
    const validate = jsonSchemaValidator()
    const broken = [
      { ...example, version: 2 },
      { ...example, products: [{ ...example.products[0], variants: [] }] },
      { ...example, products: [{ ...example.products[0], surprise: true }] },
      { ...example, products: [{ ...example.products[0], offers: [{ type: 'weekly' }] }] },
      { ...example, products: [{ ...example.products[0], image: 'ftp://x' }] },
    ]
    for (const feed of broken) {
      expect(validate(feed)).toBe(false)
      expect(validateFeed(feed).ok).toBe(false)
    }
  })
})

describe('feed validation', () => {
  it('reports every problem with the product index, its id and the exact path', () => {
    const result = validateFeed({
      version: 1,
      products: [
        { external_product_id: 'ok', title: 'Fine', variants: [{ external_variant_id: 1, title: 'A', price: '1.00' }] },
        { external_product_id: 'bad', title: '', variants: [{ external_variant_id: 'v', title: 'V', price: '-1' }] },
        {
          external_product_id: 'worse',
          title: 'W',
          variants: [{ external_variant_id: 'v', title: 'V', price: '1' }],
          offers: [{ type: 'subscription', interval_unit: 'fortnight', intervals: [1] }],
        },
      ],
    })
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.issues.map(({ index, external_product_id, path }) => ({ index, external_product_id, path }))).toEqual(
      [
        { index: 1, external_product_id: 'bad', path: 'products[1].title' },
        { index: 1, external_product_id: 'bad', path: 'products[1].variants[0].price' },
        { index: 2, external_product_id: 'worse', path: 'products[2].offers[0].interval_unit' },
      ],
    )
  })

  it('finds duplicates and option mismatches the schema cannot express', () => {
    const result = validateFeed({
      version: 1,
      products: [
        {
          external_product_id: 'p',
          title: 'P',
          options: ['Size'],
          variants: [
            { external_variant_id: 'v', title: 'S', options: ['S'], price: '1' },
            { external_variant_id: 'v', title: 'L', options: [], price: '2' },
          ],
          offers: [
            { type: 'subscription', interval_unit: 'week', intervals: [1, 2] },
            { type: 'subscription', interval_unit: 'week', intervals: [2] },
          ],
        },
        { external_product_id: 'p', title: 'Again', variants: [{ external_variant_id: 'x', title: 'X', price: '1' }] },
      ],
    })
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.issues.map((issue) => `${issue.path}: ${issue.message}`)).toEqual([
      'products[0].variants[1].external_variant_id: duplicates variants[0]',
      'products[0].variants[1].options: has 0 values for 1 options',
      'products[0].offers[1]: offers the same plan (subscription:week:2:2) as offers[0]',
      'products[1].external_product_id: duplicates products[0].external_product_id',
    ])
  })

  it('checks prices against the store currency minor units and the declared currency', () => {
    const feed = {
      version: 1,
      currency: 'JPY',
      products: [
        { external_product_id: 'j', title: 'J', variants: [{ external_variant_id: 'v', title: 'V', price: '12.5' }] },
      ],
    }
    const result = validateFeed(feed, 'JPY')
    expect(result.ok).toBe(false)
    if (!result.ok)
      expect(result.issues[0]).toMatchObject({ path: 'products[0].variants[0].price', external_product_id: 'j' })
    const mismatch = validateFeed({ ...feed, products: [] }, 'USD')
    expect(mismatch.ok).toBe(false)
    if (!mismatch.ok) expect(mismatch.issues[0]?.path).toBe('currency')
  })

  it('accepts numbers for ids and prices and normalises them to strings', () => {
    const result = validateFeed({
      version: 1,
      products: [
        { external_product_id: 42, title: 'N', variants: [{ external_variant_id: 7, title: 'V', price: 9.5 }] },
      ],
    })
    expect(result.ok).toBe(true)
    if (result.ok)
      expect(result.feed.products[0]).toMatchObject({
        external_product_id: '42',
        variants: [{ external_variant_id: '7', price: '9.5' }],
      })
  })

  it('accepts the generated sample feeds', () => {
    expect(validateFeed(sampleFeed({ products: 50 }), 'USD').ok).toBe(true)
    expect(validateFeed(sampleFeed({ products: 50, currency: 'JPY' }), 'JPY').ok).toBe(true)
  })
})
