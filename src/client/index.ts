import createClient, { type Client, type Middleware } from 'openapi-fetch'
import type { paths } from './schema.d.ts'

export { isProblem, type Problem, shopperMessage, shopperMessages } from './problems.ts'
/**
 * The typed storefront client: openapi-fetch over types generated from our OpenAPI document, so every path, query,
 * body and response is checked by the storefront's compiler. Calls return `{ data, error, response }` and never
 * throw for an HTTP error; `error` is the problem+json body (see `shopperMessage`).
 *
 * ```ts
 * const bridge = createBridgeClient({ baseUrl: 'https://bridge.example.com', getToken: () => session.bridgeToken })
 * const { data, error } = await bridge.GET('/v1/subscriptions')
 * ```
 */
export type { components, operations, paths } from './schema.d.ts'

export type BridgeClient = Client<paths>

export interface BridgeClientOptions {
  /** The bridge's public URL, without `/v1` (`https://bridge.example.com`); '' in a page served by the bridge. */
  baseUrl: string
  /**
   * The shopper's customer token (minted by your backend). Called before every request, so a refreshed token is
   * picked up; return nothing for public routes (catalog, checkout).
   */
  getToken?: () => string | null | undefined | Promise<string | null | undefined>
  /** A fetch implementation (tests, server-side rendering with a custom dispatcher). Defaults to the global fetch. */
  fetch?: typeof globalThis.fetch
  /** Headers sent with every request. */
  headers?: Record<string, string>
}

export function createBridgeClient(options: BridgeClientOptions): BridgeClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
  })
  const { getToken } = options
  if (getToken) {
    const bearer: Middleware = {
      async onRequest({ request }) {
        const token = await getToken()
        if (token && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${token}`)
        return request
      },
    }
    client.use(bearer)
  }
  return client
}

/**
 * A fresh Idempotency-Key. Create one per user intent (one click on "Subscribe") and reuse it when retrying that
 * intent: the bridge then answers the retry with the first response instead of doing the work twice.
 */
export function newIdempotencyKey(): string {
  return globalThis.crypto.randomUUID()
}
