import { describe, expect, it } from 'vitest'
import { type BreakerState, CircuitBreaker } from '../../src/cache/breaker.ts'
import { decodeEnvelope, type Entry, encodeEnvelope } from '../../src/cache/entry.ts'
import { isNotFound } from '../../src/cache/errors.ts'
import { KeySpace } from '../../src/cache/keys.ts'
import { MemoryTier } from '../../src/cache/memory-tier.ts'

const entry: Entry = {
  json: '{"title":"line\\nbreak","price":"9.99"}',
  negative: false,
  storedAt: 1_000,
  freshUntil: 2_000,
  revalidateUntil: 3_000,
  staleUntil: 4_000,
  tags: ['product:1', 'catalog'],
}

describe('L2 envelope', () => {
  it('round-trips an entry and keeps the body bytes as stored', () => {
    const text = encodeEnvelope(entry)
    expect(text.endsWith(`\n${entry.json}`)).toBe(true)
    expect(decodeEnvelope(text)).toEqual(entry)
  })

  it('round-trips a negative entry', () => {
    const negative: Entry = { ...entry, json: '', negative: true, tags: [] }
    expect(decodeEnvelope(encodeEnvelope(negative))).toEqual(negative)
  })

  it('treats other versions and garbage as a miss', () => {
    expect(decodeEnvelope(encodeEnvelope(entry).replace('"v":1', '"v":2'))).toBeUndefined()
    expect(decodeEnvelope('{"body":"x"}')).toBeUndefined()
    expect(decodeEnvelope('not json\n{}')).toBeUndefined()
  })
})

describe('key space', () => {
  it('gives an entry and its lease one hash tag, and each tag index its own', () => {
    const keys = new KeySpace()
    const entryKey = keys.entry('products.get', '123')
    expect(entryKey).toBe('rb:c:v1:{products.get:123}')
    expect(keys.lease(entryKey)).toBe('rb:c:v1:{products.get:123}:lease')
    expect(keys.tag('product:123')).toBe('rb:c:v1:tag:{product:123}')
    expect(keys.channel).toBe('rb:c:v1:invalidate')
  })

  it('keeps braces in a key from moving the hash tag', () => {
    expect(new KeySpace('p').entry('a{b', 'c}d')).toBe('p:{a(b:c)d}')
  })
})

describe('circuit breaker', () => {
  it('opens after N consecutive failures, probes once after the cool-down, closes on success', () => {
    let now = 0
    const states: BreakerState[] = []
    const breaker = new CircuitBreaker({
      failureThreshold: 3,
      coolDownMs: 1_000,
      now: () => now,
      onChange: (s) => states.push(s),
    })
    breaker.failure()
    breaker.failure()
    expect(breaker.allow()).toBe(true)
    breaker.failure()
    expect(breaker.state).toBe('open')
    expect(breaker.allow()).toBe(false)

    now += 1_000
    expect(breaker.allow()).toBe(true)
    expect(breaker.state).toBe('half-open')
    expect(breaker.allow()).toBe(false)
    breaker.failure()
    expect(breaker.state).toBe('open')

    now += 1_000
    expect(breaker.allow()).toBe(true)
    breaker.success()
    expect(breaker.state).toBe('closed')
    expect(breaker.allow()).toBe(true)
    expect(states).toEqual(['open', 'half-open', 'open', 'half-open', 'closed'])
  })

  it('a success resets the failure count', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, coolDownMs: 1_000 })
    breaker.failure()
    breaker.success()
    breaker.failure()
    expect(breaker.state).toBe('closed')
  })
})

describe('L1 memory tier', () => {
  const local = (json: string, tags: string[]) => ({
    ...entry,
    json,
    tags,
    epoch: 0,
    checkAt: 0,
    staleUntil: 10_000,
    memo: { parsed: false, value: undefined },
  })

  it('is bounded by bytes, evicting the least recently used', () => {
    const tier = new MemoryTier({ maxBytes: 3_000 })
    tier.set('a', local('x'.repeat(500), []), 0)
    tier.set('b', local('x'.repeat(500), []), 0)
    tier.get('a')
    tier.set('c', local('x'.repeat(500), []), 0)
    expect(tier.get('b')).toBeUndefined()
    expect(tier.get('a')).toBeDefined()
    expect(tier.bytes).toBeLessThanOrEqual(3_000)
  })

  it('drops by tag and forgets evicted keys in its tag index', () => {
    const tier = new MemoryTier({ maxBytes: 1_000_000 })
    tier.set('a', local('1', ['t1', 't2']), 0)
    tier.set('b', local('2', ['t2']), 0)
    tier.set('a', local('3', ['t1']), 0)
    expect(tier.deleteTagged(['t2']).sort()).toEqual(['b'])
    expect(tier.get('a')?.json).toBe('3')
    expect(tier.deleteTagged(['t1'])).toEqual(['a'])
    expect(tier.size).toBe(0)
  })
})

describe('isNotFound', () => {
  it('recognises errors carrying a 404 status only', () => {
    expect(isNotFound(Object.assign(new Error('x'), { status: 404 }))).toBe(true)
    expect(isNotFound(Object.assign(new Error('x'), { status: 503 }))).toBe(false)
    expect(isNotFound(new Error('404'))).toBe(false)
    expect(isNotFound(null)).toBe(false)
  })

  it('recognises an error that maps itself to a 404 through toAppError()', () => {
    expect(isNotFound(Object.assign(new Error('x'), { toAppError: () => ({ status: 404 }) }))).toBe(true)
    expect(isNotFound(Object.assign(new Error('x'), { toAppError: () => ({ status: 502 }) }))).toBe(false)
  })
})

describe('Redis tier isolation', () => {
  it('gives up on a Redis that never answers, then skips it while the breaker is open', async () => {
    const { RedisTier, UNAVAILABLE } = await import('../../src/cache/redis-tier.ts')
    let calls = 0
    const hung = {
      isReady: true,
      get: () => {
        calls += 1
        return new Promise<never>(() => {})
      },
    }
    const errors: string[] = []
    const breaker = new CircuitBreaker({ failureThreshold: 2, coolDownMs: 60_000 })
    const tier = new RedisTier({
      client: hung as unknown as ConstructorParameters<typeof RedisTier>[0]['client'],
      keys: new KeySpace('t'),
      breaker,
      onError: (operation) => errors.push(operation),
      callTimeoutMs: 20,
    })
    expect(await tier.get('a')).toBe(UNAVAILABLE)
    expect(await tier.get('b')).toBe(UNAVAILABLE)
    expect(breaker.state).toBe('open')
    expect(await tier.get('c')).toBe(UNAVAILABLE)
    expect(calls).toBe(2)
    expect(errors).toEqual(['get', 'get'])
  })
})
