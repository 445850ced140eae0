import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { planPrice } from '../../src/catalog/pricing.ts'
import { decimal, formatAmount, minorUnits } from '../../src/infra/money.ts'

describe('currency minor units', () => {
  it('knows two-, zero- and three-decimal currencies', () => {
    expect(minorUnits('USD')).toBe(2)
    expect(minorUnits('eur')).toBe(2)
    expect(minorUnits('JPY')).toBe(0)
    expect(minorUnits('KRW')).toBe(0)
    expect(minorUnits('KWD')).toBe(3)
  })

  it('formats amounts in the currency minor units', () => {
    expect(formatAmount('39.9', 'USD')).toBe('39.90')
    expect(formatAmount('3200.00', 'JPY')).toBe('3200')
    expect(formatAmount('1.2345', 'KWD')).toBe('1.235')
  })
})

describe('plan prices', () => {
  it('reproduces the CDN example: 20 % off 39.95 is 31.96 saving 7.99', () => {
    expect(planPrice('39.95', { discount_type: 'percentage', discount_amount: '20' }, 'USD')).toEqual({
      discounted_price: '31.96',
      discount_value: '7.99',
    })
  })

  it('rounds the discount half-up to cents (10 % of 39.95 = 3.995 → 4.00)', () => {
    expect(planPrice('39.95', { discount_type: 'percentage', discount_amount: '10.00' }, 'USD')).toEqual({
      discounted_price: '35.95',
      discount_value: '4.00',
    })
    // 10 % of 1.25 = 0.125: half-up gives 0.13 (half-even would give 0.12).
    expect(planPrice('1.25', { discount_type: 'percentage', discount_amount: '10' }, 'USD').discount_value).toBe('0.13')
  })

  it('is exact where binary floats are not (0.1 + 0.2 class of errors)', () => {
    // 10 % of 1.45 = 0.145 exactly → 0.15; with floats 1.45 * 10 / 100 * 100 = 14.499999999999998 → 0.14 (a cent off).
    expect(Math.round(((1.45 * 10) / 100) * 100) / 100).toBe(0.14)
    expect(planPrice('1.45', { discount_type: 'percentage', discount_amount: '10' }, 'USD')).toEqual({
      discounted_price: '1.30',
      discount_value: '0.15',
    })
  })

  it('prices zero-decimal currencies in whole units (JPY)', () => {
    expect(planPrice('3200', { discount_type: 'percentage', discount_amount: '15' }, 'JPY')).toEqual({
      discounted_price: '2720',
      discount_value: '480',
    })
    // 10 % of 1255 = 125.5 → 126 yen off.
    expect(planPrice('1255', { discount_type: 'percentage', discount_amount: '10' }, 'JPY')).toEqual({
      discounted_price: '1129',
      discount_value: '126',
    })
  })

  it('applies fixed amounts and caps discounts at the price', () => {
    expect(planPrice('10.00', { discount_type: 'fixed_amount', discount_amount: '2.5' }, 'USD')).toEqual({
      discounted_price: '7.50',
      discount_value: '2.50',
    })
    expect(planPrice('10.00', { discount_type: 'fixed_amount', discount_amount: '25' }, 'USD').discounted_price).toBe(
      '0.00',
    )
    expect(planPrice('10.00', { discount_type: 'percentage', discount_amount: '150' }, 'USD').discounted_price).toBe(
      '0.00',
    )
  })

  it('treats a missing or non-positive discount as none', () => {
    const none = { discounted_price: '10.00', discount_value: '0.00' }
    expect(planPrice('10', { discount_type: null, discount_amount: null }, 'USD')).toEqual(none)
    expect(planPrice('10', { discount_type: 'percentage', discount_amount: '0' }, 'USD')).toEqual(none)
    expect(planPrice('10', { discount_type: 'percentage', discount_amount: '-5' }, 'USD')).toEqual(none)
  })

  it('always satisfies discounted + discount = unit price, never negative, in minor units', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.constantFrom('USD', 'JPY', 'KWD'),
        (minor, basisPoints, currency) => {
          const units = minorUnits(currency)
          const unit = decimal(minor)
            .div(10 ** units)
            .toFixed(units)
          const percent = decimal(basisPoints).div(100).toString()
          const price = planPrice(unit, { discount_type: 'percentage', discount_amount: percent }, currency)
          expect(decimal(price.discounted_price).plus(price.discount_value).eq(unit)).toBe(true)
          expect(decimal(price.discounted_price).gte(0)).toBe(true)
          expect(price.discounted_price.split('.')[1]?.length ?? 0).toBe(units)
        },
      ),
    )
  })
})
