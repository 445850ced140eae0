import { readFileSync } from 'node:fs'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { describe, expect, it } from 'vitest'
import { addressKey, firstChargeDate } from '../../src/import/normalise.ts'
import { importRecordJsonSchema, parseImportRecord } from '../../src/import/record.ts'

const committed = JSON.parse(readFileSync(new URL('../../schemas/import-record.schema.json', import.meta.url), 'utf8'))
const examples = readFileSync(new URL('../../examples/import-orders.ndjson', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line))

function validator() {
  const ajv = new Ajv2020({ allErrors: true, strict: false })
  addFormats.default(ajv)
  return ajv.compile(committed)
}

describe('import record schema', () => {
  it('the committed JSON Schema is the one generated from the zod schema', () => {
    // Regenerate with: recharge-bridge import --schema > schemas/import-record.schema.json
    expect(committed).toEqual(importRecordJsonSchema())
  })

  it('the example records are valid under both schemas', () => {
    const validate = validator()
    for (const record of examples) {
      expect(validate(record), JSON.stringify(validate.errors)).toBe(true)
      expect(parseImportRecord(record).ok).toBe(true)
    }
  })

  it('both schemas refuse a missing processor token, an invalid country and an unknown field', () => {
    const validate = validator()
    const [record] = examples
    const broken = [
      { ...record, payment_method: { ...record.payment_method, processor_payment_method_token: undefined } },
      { ...record, shipping_address: { ...record.shipping_address, country_code: 'Narnia' } },
      { ...record, surprise: true },
      { ...record, lines: [] },
    ]
    for (const bad of broken) {
      const plain = JSON.parse(JSON.stringify(bad))
      expect(validate(plain)).toBe(false)
      expect(parseImportRecord(plain).ok).toBe(false)
    }
  })
})

describe('normalisation', () => {
  it('an address matches regardless of case, spacing and the zip code spaces', () => {
    const a = { first_name: 'Ada', last_name: 'Stone', address1: '12  Elm Street', city: 'Portland', zip: 'SW1A 1AA' }
    const b = { first_name: 'ada', last_name: 'STONE ', address1: '12 elm street', city: 'portland', zip: 'SW1A1AA' }
    expect(addressKey(a)).toBe(addressKey(b))
    expect(addressKey(a)).not.toBe(addressKey({ ...b, address1: '14 Elm Street' }))
  })

  it('the first charge is one interval after the order, moved forward past today for an old order', () => {
    const now = Date.UTC(2026, 0, 10)
    expect(firstChargeDate('2026-01-05', { unit: 'month', every: 1 }, undefined, now)).toBe('2026-02-05')
    expect(firstChargeDate('2025-06-01', { unit: 'week', every: 2 }, undefined, now)).toBe('2026-01-11')
    expect(firstChargeDate('2026-01-05', { unit: 'day', every: 30 }, '2026-03-01', now)).toBe('2026-03-01')
  })
})
