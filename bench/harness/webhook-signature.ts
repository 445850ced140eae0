import { createHash, createHmac } from 'node:crypto'

/**
 * The headers Recharge sends with a webhook: the v1 signature (HMAC-SHA256 over "<t>.<body>" with the API client
 * secret) and the legacy one (SHA-256 of secret + body), plus the topic.
 */
export function signedWebhookHeaders(secret: string, topic: string, body: string): Record<string, string> {
  const t = Math.floor(Date.now() / 1000)
  return {
    'content-type': 'application/json',
    'x-recharge-topic': topic,
    'x-recharge-webhook-signature': `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`,
    'x-recharge-hmac-sha256': createHash('sha256')
      .update(secret + body)
      .digest('hex'),
  }
}
