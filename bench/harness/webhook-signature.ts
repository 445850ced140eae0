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

/** An endless supply of signed `subscription/updated` deliveries, each a different subscription (ids from `firstId`). */
export function signedDeliveries(
  secret: string,
  firstId = 900_000,
): () => { body: string; headers: Record<string, string> } {
  let sequence = 0
  return () => {
    sequence++
    const now = new Date().toISOString().slice(0, 19)
    const body = JSON.stringify({
      subscription: {
        id: firstId + sequence,
        customer_id: 5_000 + (sequence % 500),
        address_id: 9_000 + (sequence % 500),
        status: 'active',
        quantity: 1,
        price: '19.90',
        product_title: 'Bench coffee subscription',
        order_interval_frequency: '1',
        order_interval_unit: 'month',
        next_charge_scheduled_at: '2030-01-01',
        created_at: now,
        updated_at: now,
      },
    })
    return { body, headers: signedWebhookHeaders(secret, 'subscription/updated', body) }
  }
}
