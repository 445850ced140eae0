import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { buildApp } from '../../src/app.ts'
import { AppError } from '../../src/errors.ts'
import { apiSecurityHeaders, securityHeaders } from '../../src/plugins/security.ts'
import { testConfig } from '../support/config.ts'

/** The error contract every route shares: problem+json with a stable code and the request id, never a stack. */
describe('errors as problem+json', () => {
  let app: FastifyInstance

  beforeAll(async () => {
    app = await buildApp(testConfig({ RECHARGE_API_TOKEN: 'test-token', RECHARGE_API_URL: 'http://127.0.0.1:9' }), {
      redis: null,
      backgroundWorkers: false,
    })
    app.post(
      '/test/echo',
      { schema: { body: z.object({ name: z.string().min(1), quantity: z.number().int().positive() }).strict() } },
      async (request) => request.body,
    )
    app.get('/test/boom', async () => {
      throw new Error('database password is hunter2')
    })
    app.get('/test/app-error', async () => {
      throw new AppError('UPSTREAM_BUSY', { detail: 'try later', retryAfter: 2.2 })
    })
    await app.ready()
  })
  afterAll(() => app.close())

  it('answers an unknown route with a ROUTE_NOT_FOUND problem', async () => {
    const response = await app.inject({ url: '/v1/nothing-here' })
    expect(response.statusCode).toBe(404)
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(response.json()).toMatchObject({
      status: 404,
      code: 'ROUTE_NOT_FOUND',
      requestId: response.headers['x-request-id'],
    })
  })

  it('lists each failing field of a validation error', async () => {
    const response = await app.inject({ method: 'POST', url: '/test/echo', payload: { name: '', quantity: 'two' } })
    expect(response.statusCode).toBe(400)
    const problem = response.json()
    expect(problem.code).toBe('VALIDATION_FAILED')
    expect(problem.errors.map((e: { field: string }) => e.field).sort()).toEqual(['body.name', 'body.quantity'])
  })

  it('rejects unknown keys on strict bodies', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/test/echo',
      payload: { name: 'a', quantity: 1, price: '0.01' },
    })
    expect(response.statusCode).toBe(400)
    expect(response.json().code).toBe('VALIDATION_FAILED')
  })

  it('answers malformed JSON with 400, not 500', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/test/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": "a",',
    })
    expect(response.statusCode).toBe(400)
    expect(response.json().code).toBe('BAD_REQUEST')
  })

  it('answers an oversized body with 413', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/test/echo',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(70 * 1024), quantity: 1 }),
    })
    expect(response.statusCode).toBe(413)
    expect(response.json().code).toBe('PAYLOAD_TOO_LARGE')
  })

  it('answers an unsupported content type with 415', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/test/echo',
      headers: { 'content-type': 'application/xml' },
      payload: '<a/>',
    })
    expect(response.statusCode).toBe(415)
  })

  it('hides the message and stack of an unexpected error', async () => {
    const response = await app.inject({ url: '/test/boom' })
    expect(response.statusCode).toBe(500)
    expect(response.json()).toMatchObject({ code: 'INTERNAL', title: 'Internal error' })
    expect(response.body).not.toContain('hunter2')
    expect(response.body).not.toContain('at ')
  })

  it('renders Retry-After as an integer number of seconds', async () => {
    const response = await app.inject({ url: '/test/app-error' })
    expect(response.statusCode).toBe(503)
    expect(response.headers['retry-after']).toBe('3')
  })

  it('echoes a well-formed inbound request id and replaces a malformed one', async () => {
    const kept = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'storefront-req-12345' } })
    expect(kept.headers['x-request-id']).toBe('storefront-req-12345')
    const replaced = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'bad id <script>' } })
    expect(replaced.headers['x-request-id']).not.toBe('bad id <script>')
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('sets security headers and refuses CORS for unknown origins', async () => {
    const allowed = await app.inject({ url: '/healthz', headers: { origin: 'https://shop.example' } })
    expect(allowed.headers['access-control-allow-origin']).toBe('https://shop.example')
    expect(allowed.headers['x-content-type-options']).toBe('nosniff')
    const foreign = await app.inject({ url: '/healthz', headers: { origin: 'https://evil.example' } })
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('sends HSTS only when the public URL is https (RFC 6797: never over plain http)', () => {
    const secure = securityHeaders('https://bridge.example')
    expect(secure['strict-transport-security']).toMatch(/^max-age=\d+/)
    expect(apiSecurityHeaders(secure)['strict-transport-security']).toBe(secure['strict-transport-security'])
    const plain = securityHeaders('http://192.168.1.20:3000')
    expect(plain['strict-transport-security']).toBeUndefined()
    expect(apiSecurityHeaders(plain)['strict-transport-security']).toBeUndefined()
  })

  it('gives JSON routes a lean header set and pages the full document policy', async () => {
    const api = await app.inject({ url: '/healthz' })
    expect(api.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'")
    expect(api.headers['x-frame-options']).toBe('DENY')
    expect(api.headers['x-content-type-options']).toBe('nosniff')
    expect(api.headers['cross-origin-opener-policy']).toBeUndefined()
    const page = await app.inject({ url: '/some-page' })
    expect(page.headers['content-security-policy']).toContain("script-src 'self'")
    expect(page.headers['cross-origin-opener-policy']).toBe('same-origin')
  })
})
