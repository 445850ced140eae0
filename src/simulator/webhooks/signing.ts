import { createHash, createHmac } from 'node:crypto'

/**
 * Both Recharge webhook signature schemes over the exact raw body:
 * - legacy `X-Recharge-Hmac-Sha256` = hex(sha256(client_secret + body)) (not an HMAC despite the name);
 * - `X-Recharge-Webhook-Signature: t=<unix seconds>,v1=<hex(hmac_sha256(client_secret, "<t>.<body>"))>` with
 *   `X-Recharge-Webhook-Timestamp: <t>`.
 */
export function signatureHeaders(clientSecret: string, rawBody: string, unixSeconds: number): Record<string, string> {
  const legacy = createHash('sha256').update(clientSecret).update(rawBody).digest('hex')
  const v1 = createHmac('sha256', clientSecret).update(`${unixSeconds}.${rawBody}`).digest('hex')
  return {
    'x-recharge-hmac-sha256': legacy,
    'x-recharge-webhook-timestamp': String(unixSeconds),
    'x-recharge-webhook-signature': `t=${unixSeconds},v1=${v1}`,
  }
}
