import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { sendCached } from '../../src/cache/reply.ts'
import { CachedResult } from '../../src/cache/result.ts'

describe('sendCached', () => {
  it('sends the stored JSON as is with X-Cache and Age', async () => {
    const app = Fastify()
    // Key order and spacing that a re-serialisation would change: proves the string goes out untouched.
    const json = '{"b":1,"a":[1,2],"c":"caf\\u00e9"}'
    app.get('/p', async (_request, reply) => sendCached(reply, new CachedResult(json, 'STALE', 61_500)))
    const response = await app.inject('/p')
    expect(response.statusCode).toBe(200)
    expect(response.body).toBe(json)
    expect(response.headers['x-cache']).toBe('STALE')
    expect(response.headers.age).toBe('61')
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8')
    await app.close()
  })
})
