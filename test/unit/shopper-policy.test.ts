import { readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadPolicy, PolicyError, parsePolicy, shopperActions } from '../../src/shopper/policy.ts'

describe('merchant policy', () => {
  it('defaults to every action allowed but change_email, with bounded windows and a reason list', () => {
    const policy = parsePolicy({})
    for (const action of shopperActions) {
      expect(policy.actions[action]).toBe(action !== 'change_email' && action !== 'order_now')
    }
    expect(parsePolicy({ actions: { change_email: true } }).actions.change_email).toBe(true)
    expect(policy.cancel.reasons.length).toBeGreaterThan(0)
    expect(policy.reschedule).toEqual({ min_days_ahead: 1, max_days_ahead: 90 })
    expect(policy.quantity).toEqual({ min: 1, max: 10 })
    expect(policy.swap.scope).toBe('same_product')
    expect(Object.isFrozen(policy.actions)).toBe(true)
  })

  it('keeps defaults for actions a file omits', () => {
    const policy = parsePolicy({ actions: { cancel: false } })
    expect(policy.actions.cancel).toBe(false)
    expect(policy.actions.skip).toBe(true)
  })

  it('refuses unknown keys, inverted bounds and duplicate reasons, listing each problem', () => {
    expect(() => parsePolicy({ actions: { teleport: true } })).toThrow(PolicyError)
    expect(() => parsePolicy({ quantity: { min: 5, max: 2 } })).toThrow(/quantity/)
    expect(() => parsePolicy({ cancel: { reasons: ['a', 'a'] } })).toThrow(/unique/)
    expect(() => parsePolicy({ reschedule: { min_days_ahead: 0 } })).toThrow(/reschedule.min_days_ahead/)
  })

  it('loads the example file shipped at the repository root', () => {
    const policy = loadPolicy(new URL('../../policy.example.json', import.meta.url).pathname)
    const raw = JSON.parse(readFileSync(new URL('../../policy.example.json', import.meta.url), 'utf8'))
    expect(policy.cancel.reasons).toEqual(raw.cancel.reasons)
    expect(policy.quantity.max).toBe(raw.quantity.max)
  })

  it('explains a missing or broken file', () => {
    expect(() => loadPolicy('/nonexistent/policy.json')).toThrow(/cannot be read: ENOENT/)
    const file = join(tmpdir(), `policy-${process.pid}.json`)
    writeFileSync(file, '{ not json')
    expect(() => loadPolicy(file)).toThrow(/not valid JSON/)
  })
})
