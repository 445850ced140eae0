import { type Dispatcher, request } from 'undici'
import { ShopifyUnavailable } from './errors.ts'

/** Larger answers than this are not what the bridge asked for. */
const MAX_BODY_BYTES = 256 * 1024

export interface ShopifyAnswer {
  status: number
  body: unknown
}

/**
 * One call to a Shopify API under the caller's deadline (`signal`): the status and the parsed JSON body. Anything that
 * keeps the answer from arriving whole (timeout, refused connection, oversized or non-JSON body) is ShopifyUnavailable;
 * the status is the caller's to judge. Credentials travel in `headers` or `body` and never into an error message.
 */
export async function callShopify(
  url: string,
  options: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: unknown; signal: AbortSignal },
  dispatcher?: Dispatcher,
): Promise<ShopifyAnswer> {
  let response: Dispatcher.ResponseData
  try {
    response = await request(url, {
      method: options.method,
      headers: {
        accept: 'application/json',
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      signal: options.signal,
      ...(dispatcher ? { dispatcher } : {}),
    })
  } catch {
    throw unavailable(options.signal, 'Shopify could not be reached')
  }
  let text: string
  try {
    const length = Number(response.headers['content-length'] ?? 0)
    if (length > MAX_BODY_BYTES) {
      response.body.destroy()
      throw new ShopifyUnavailable('malformed', 'Shopify answered an oversized body')
    }
    text = await response.body.text()
  } catch (error) {
    if (error instanceof ShopifyUnavailable) throw error
    throw unavailable(options.signal, 'Shopify did not finish its answer')
  }
  if (text.length > MAX_BODY_BYTES) throw new ShopifyUnavailable('malformed', 'Shopify answered an oversized body')
  try {
    return { status: response.statusCode, body: text === '' ? null : JSON.parse(text) }
  } catch {
    if (response.statusCode >= 500) return { status: response.statusCode, body: null }
    throw new ShopifyUnavailable('malformed', `Shopify answered ${response.statusCode} with a body that is not JSON`)
  }
}

function unavailable(signal: AbortSignal, message: string): ShopifyUnavailable {
  return signal.aborted
    ? new ShopifyUnavailable('timeout', 'Shopify did not answer in time')
    : new ShopifyUnavailable('unreachable', message)
}
