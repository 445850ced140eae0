import { createHmac } from 'node:crypto'

/**
 * A query string signed as Shopify signs the requests its app proxy forwards ("Authenticate app proxies"): each
 * parameter as `key=value` (a repeated key's values joined by `,`), sorted, concatenated, hex HMAC-SHA256 with the
 * app's shared secret, appended as `signature`. Written here on its own, not borrowed from the bridge, so a mistake in
 * the bridge's verifier cannot be mirrored by the stand-in that tests it.
 */
export function signedProxyQuery(params: [string, string][], secret: string): string {
  const values = new Map<string, string[]>()
  for (const [key, value] of params) values.set(key, [...(values.get(key) ?? []), value])
  const message = [...values.entries()]
    .map(([key, list]) => `${key}=${list.join(',')}`)
    .sort()
    .join('')
  const query = new URLSearchParams(params)
  query.append('signature', createHmac('sha256', secret).update(message).digest('hex'))
  return query.toString()
}
