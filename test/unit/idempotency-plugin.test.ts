import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AppError } from '../../src/errors.ts'
import { MemoryIdempotencyStore } from '../../src/idempotency/memory-store.ts'
import type { StoredResponse } from '../../src/idempotency/types.ts'
import errorHandler from '../../src/plugins/error-handler.ts'
import idempotency, { beforeIdempotentWrite, IDEMPOTENCY_TIMINGS } from '../../src/plugins/idempotency.ts'
import metrics from '../../src/plugins/metrics.ts'
import redis from '../../src/plugins/redis.ts'

/** A tiny app: one write route whose handler counts how often it really runs. */
async function appWithWriteRoute(): Promise<{ app: FastifyInstance; calls: () => number; gate: Gate }> {
  const app = Fastify({ logger: false })
  await app.register(errorHandler)
  await app.register(metrics)
  await app.register(redis, { client: null })
  await app.register(idempotency)
  let count = 0
  const gate = new Gate()
  app.post<{ Body: { n?: number; fail?: number }; Params: { id: string } }>(
    '/things/:id',
    {
      config: { idempotency: 'optional' },
      preHandler: async (request) => {
        request.idempotencyPrincipal = String(request.headers['x-client'] ?? 'client-a')
      },
    },
    async (request, reply) => {
      count += 1
      await gate.wait()
      if (request.body.fail === 500) throw new Error('boom')
      if (request.body.fail === 409) throw new AppError('CONFLICT')
      if (request.body.fail === 422) throw new AppError('UNPROCESSABLE', { detail: 'nope' })
      return reply.code(201).header('location', `/things/${request.params.id}`).send({ id: request.params.id, count })
    },
  )
  app.post('/required', { config: { idempotency: 'required' } }, async () => ({ ok: true }))
  return { app, calls: () => count, gate }
}

class Gate {
  private blocked: Promise<void> | null = null
  private open: (() => void) | null = null
  close(): void {
    this.blocked = new Promise((resolve) => {
      this.open = resolve
    })
  }
  release(): void {
    this.open?.()
    this.blocked = null
  }
  async wait(): Promise<void> {
    await this.blocked
  }
}

describe('Idempotency-Key', () => {
  let ctx: Awaited<ReturnType<typeof appWithWriteRoute>>
  beforeEach(async () => {
    ctx = await appWithWriteRoute()
  })
  afterEach(async () => {
    await ctx.app.close()
  })

  const post = (body: object, key?: string, extra: Record<string, string> = {}, path = '/things/1') =>
    ctx.app.inject({
      method: 'POST',
      url: path,
      payload: body,
      headers: { ...(key ? { 'idempotency-key': key } : {}), ...extra },
    })

  it('replays the stored response for the same key and body, without running the handler again', async () => {
    const first = await post({ n: 1 }, 'key-1')
    const second = await post({ n: 1 }, 'key-1')
    expect(first.statusCode).toBe(201)
    expect(second.statusCode).toBe(201)
    expect(second.body).toBe(first.body)
    expect(second.headers['location']).toBe('/things/1')
    expect(second.headers['content-type']).toBe(first.headers['content-type'])
    expect(second.headers['idempotent-replayed']).toBe('true')
    expect(first.headers['idempotent-replayed']).toBeUndefined()
    expect(ctx.calls()).toBe(1)
  })

  it('treats bodies with keys in another order as the same request', async () => {
    await post({ n: 1, fail: 0 }, 'key-order')
    const again = await post({ fail: 0, n: 1 }, 'key-order')
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(ctx.calls()).toBe(1)
  })

  it('answers 422 IDEMPOTENCY_KEY_REUSED for the same key with another body or path', async () => {
    await post({ n: 1 }, 'key-2')
    const otherBody = await post({ n: 2 }, 'key-2')
    expect(otherBody.statusCode).toBe(422)
    expect(otherBody.json().code).toBe('IDEMPOTENCY_KEY_REUSED')
    const otherPath = await post({ n: 1 }, 'key-2', {}, '/things/2')
    expect(otherPath.json().code).toBe('IDEMPOTENCY_KEY_REUSED')
    expect(ctx.calls()).toBe(1)
  })

  it('answers 409 IDEMPOTENCY_KEY_IN_USE while the first request runs, then replays', async () => {
    ctx.gate.close()
    const first = post({ n: 1 }, 'key-3')
    // Wait until the first request is inside the handler.
    while (ctx.calls() === 0) await new Promise((resolve) => setImmediate(resolve))
    const concurrent = await post({ n: 1 }, 'key-3')
    expect(concurrent.statusCode).toBe(409)
    expect(concurrent.json().code).toBe('IDEMPOTENCY_KEY_IN_USE')
    expect(concurrent.headers['retry-after']).toBe('1')
    ctx.gate.release()
    expect((await first).statusCode).toBe(201)
    expect((await post({ n: 1 }, 'key-3')).headers['idempotent-replayed']).toBe('true')
    expect(ctx.calls()).toBe(1)
  })

  it('scopes keys by principal', async () => {
    await post({ n: 1 }, 'key-4', { 'x-client': 'client-a' })
    const other = await post({ n: 1 }, 'key-4', { 'x-client': 'client-b' })
    expect(other.statusCode).toBe(201)
    expect(other.headers['idempotent-replayed']).toBeUndefined()
    expect(ctx.calls()).toBe(2)
  })

  it('stores final 4xx answers but releases the key after a 5xx or a transient 409', async () => {
    const rejected = await post({ fail: 422 }, 'key-5')
    expect(rejected.statusCode).toBe(422)
    expect((await post({ fail: 422 }, 'key-5')).headers['idempotent-replayed']).toBe('true')
    expect(ctx.calls()).toBe(1)

    expect((await post({ fail: 500 }, 'key-6')).statusCode).toBe(500)
    const retried = await post({ fail: 500 }, 'key-6')
    expect(retried.headers['idempotent-replayed']).toBeUndefined()
    expect(ctx.calls()).toBe(3)

    expect((await post({ fail: 409 }, 'key-7')).statusCode).toBe(409)
    expect((await post({ fail: 409 }, 'key-7')).headers['idempotent-replayed']).toBeUndefined()
    expect(ctx.calls()).toBe(5)
  })

  it('runs every request without a key', async () => {
    await post({ n: 1 })
    await post({ n: 1 })
    expect(ctx.calls()).toBe(2)
  })

  it('answers 428 on a required route without a key, and 400 for a malformed key', async () => {
    const missing = await ctx.app.inject({ method: 'POST', url: '/required', payload: {} })
    expect(missing.statusCode).toBe(428)
    expect(missing.json().code).toBe('IDEMPOTENCY_KEY_REQUIRED')
    const tooLong = await post({ n: 1 }, 'x'.repeat(256))
    expect(tooLong.statusCode).toBe(400)
    expect(tooLong.json().errors[0].field).toBe('headers.idempotency-key')
    const control = await post({ n: 1 }, 'bad\u0001key')
    expect(control.statusCode).toBe(400)
    expect(ctx.calls()).toBe(0)
  })
})

/** A memory store whose calls can be made to fail, with a clock the test moves. */
class FlakyStore extends MemoryIdempotencyStore {
  failing = new Set<'begin' | 'dispatch' | 'complete'>()
  readonly clock: { now: number }
  constructor() {
    const clock = { now: 1_000_000 }
    super(IDEMPOTENCY_TIMINGS, { now: () => clock.now })
    this.clock = clock
  }
  override async begin(key: string, fingerprint: string) {
    if (this.failing.has('begin')) throw new Error('redis down')
    return super.begin(key, fingerprint)
  }
  override async dispatch(key: string, owner: string, fingerprint: string) {
    if (this.failing.has('dispatch')) throw new Error('redis down')
    return super.dispatch(key, owner, fingerprint)
  }
  override async complete(key: string, owner: string, fingerprint: string, response: StoredResponse) {
    if (this.failing.has('complete')) throw new Error('redis down')
    return super.complete(key, owner, fingerprint, response)
  }
}

describe('Idempotency-Key when the store fails', () => {
  let app: FastifyInstance
  let store: FlakyStore
  let sent = 0
  beforeEach(async () => {
    sent = 0
    store = new FlakyStore()
    app = Fastify({ logger: false })
    await app.register(errorHandler)
    await app.register(metrics)
    await app.register(redis, { client: null })
    await app.register(idempotency, { store })
    app.post('/writes', { config: { idempotency: 'optional' } }, async (request) => {
      await beforeIdempotentWrite(request)
      sent += 1
      return { sent }
    })
    await app.ready()
  })
  afterEach(async () => {
    await app.close()
  })
  const write = () =>
    app.inject({ method: 'POST', url: '/writes', payload: {}, headers: { 'idempotency-key': 'key-of-sixteen-chars' } })

  it('refuses a keyed write with 503 and Retry-After, sending nothing, when the key cannot be looked up or its dispatch recorded', async () => {
    store.failing.add('begin')
    const refused = await write()
    expect([refused.statusCode, refused.json().code]).toEqual([503, 'IDEMPOTENCY_STORE_UNAVAILABLE'])
    expect(refused.headers['retry-after']).toBe('2')
    store.failing = new Set(['dispatch'])
    expect((await write()).json().code).toBe('IDEMPOTENCY_STORE_UNAVAILABLE')
    expect(sent).toBe(0)
    store.failing.clear()
    // The reservation of the refused attempt was released: the retry goes through, once.
    expect((await write()).statusCode).toBe(200)
    expect((await write()).headers['idempotent-replayed']).toBe('true')
    expect(sent).toBe(1)
  })

  it('never re-runs a write whose answer could not be stored: in use at first, then unsettled', async () => {
    store.failing.add('complete')
    expect((await write()).statusCode).toBe(200)
    store.failing.clear()
    const early = await write()
    expect([early.statusCode, early.json().code]).toEqual([409, 'IDEMPOTENCY_KEY_IN_USE'])
    store.clock.now += IDEMPOTENCY_TIMINGS.reserveTtlMs
    const late = await write()
    expect([late.statusCode, late.json().code]).toEqual([409, 'IDEMPOTENCY_KEY_UNSETTLED'])
    store.clock.now += 23 * 60 * 60 * 1000
    expect((await write()).json().code).toBe('IDEMPOTENCY_KEY_UNSETTLED')
    expect(sent).toBe(1)
  })
})
