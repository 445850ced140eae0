import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { generateClientTypes, openApiPath, schemaPath } from '../../src/client/generate.ts'
import { createBridgeClient, shopperMessage } from '../../src/client/index.ts'
import { shopperMessages } from '../../src/client/problems.ts'
import { errorCatalogue } from '../../src/errors.ts'

describe('typed storefront client', () => {
  it('has types generated from the committed OpenAPI document (run `npm run client:generate` when this fails)', async () => {
    const fresh = await generateClientTypes(readFileSync(openApiPath, 'utf8'))
    expect(readFileSync(schemaPath, 'utf8')).toBe(fresh)
  })

  it('sends the shopper token from getToken on every request, read afresh each time', async () => {
    const seen: Array<{ url: string; authorization: string | null }> = []
    const fakeFetch = async (input: Request) => {
      seen.push({ url: input.url, authorization: input.headers.get('authorization') })
      return Response.json({ status: 'ok' })
    }
    let token: string | undefined = 'first'
    const client = createBridgeClient({
      baseUrl: 'https://bridge.example.com/',
      getToken: () => token,
      fetch: fakeFetch as typeof fetch,
    })
    await client.GET('/healthz')
    token = 'second'
    await client.GET('/healthz')
    token = undefined
    const { data } = await client.GET('/healthz')
    expect(data).toEqual({ status: 'ok' })
    expect(seen).toEqual([
      { url: 'https://bridge.example.com/healthz', authorization: 'Bearer first' },
      { url: 'https://bridge.example.com/healthz', authorization: 'Bearer second' },
      { url: 'https://bridge.example.com/healthz', authorization: null },
    ])
  })

  it('returns problem+json errors as data a storefront can turn into a sentence for the shopper', async () => {
    const problem = {
      type: 'https://recharge-bridge.dev/problems/action-not-allowed',
      title: 'This action is not allowed by the store',
      status: 403,
      code: 'ACTION_NOT_ALLOWED',
      requestId: 'req-1',
    }
    const client = createBridgeClient({
      baseUrl: 'https://bridge.example.com',
      fetch: (async () =>
        new Response(JSON.stringify(problem), {
          status: 403,
          headers: { 'content-type': 'application/problem+json' },
        })) as typeof fetch,
    })
    const { data, error } = await client.GET('/healthz')
    expect(data).toBeUndefined()
    expect(error).toEqual(problem)
    expect(shopperMessage(error)).toBe('This action is not allowed by the store.')
    expect(shopperMessage({ ...problem, code: 'SOMETHING_NEW', status: 503 })).toMatch(/went wrong/)
    expect(shopperMessage(new TypeError('Failed to fetch'))).toMatch(/could not reach the store/)
  })

  it('has a sentence for the shopper for every error code the server can send', () => {
    const missing = Object.keys(errorCatalogue).filter((code) => !(code in shopperMessages))
    expect(missing).toEqual([])
  })
})
