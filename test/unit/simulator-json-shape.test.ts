import { describe, expect, it } from 'vitest'
import { shapeDiff } from '../support/json-shape.ts'

describe('shapeDiff (the conformance comparator)', () => {
  it('accepts different values of the same shape', () => {
    expect(
      shapeDiff(
        { id: 1, price: '49.00', ids: [1], nested: { a: true } },
        { id: 7, price: '3200', ids: [9, 8], nested: { a: false } },
      ),
    ).toEqual([])
  })

  it('reports missing and extra keys at any depth', () => {
    expect(shapeDiff({ a: 1, b: { c: 1 } }, { a: 1, b: { d: 1 }, e: 2 })).toEqual([
      '$.e: not in the recorded response',
      '$.b.c: missing in simulator',
      '$.b.d: not in the recorded response',
    ])
  })

  it('reports a type change, including number versus string money', () => {
    expect(shapeDiff({ price: '49.00' }, { price: 49 })).toEqual(['$.price: recorded string, simulator number'])
    expect(shapeDiff({ list: [] }, { list: {} })).toEqual(['$.list: recorded array, simulator object'])
  })

  it('treats null as nullable and empty recorded containers as unconstrained', () => {
    expect(
      shapeDiff({ a: null, images: {}, items: [] }, { a: 'x', images: { small: 'u' }, items: [{ id: 1 }] }),
    ).toEqual([])
  })
})
