import {
  ignoredBody,
  type Webhook,
  type WebhookInput,
  webhookEnvelope,
  webhookListEnvelope,
} from '../schemas/webhooks.ts'
import type { CallOptions, RechargeTransport } from '../types.ts'

/** Webhook subscriptions of the token (2021-11 `/webhooks`). Registration is background work: lane 'background'. */
export function webhooksResource(transport: RechargeTransport) {
  const background = (options?: CallOptions): CallOptions => ({ lane: 'background', ...options })
  return {
    /** Every webhook of the token, following cursors. */
    async list(options?: CallOptions): Promise<Webhook[]> {
      const all: Webhook[] = []
      let cursor: string | null = null
      do {
        const page: { webhooks: Webhook[]; next_cursor: string | null } = await transport.send(
          {
            method: 'GET',
            path: '/webhooks',
            query: cursor ? { limit: 250, cursor } : { limit: 250 },
            schema: webhookListEnvelope,
          },
          background(options),
        )
        all.push(...page.webhooks)
        cursor = page.next_cursor
      } while (cursor)
      return all
    },
    async get(webhookId: string, options?: CallOptions): Promise<Webhook> {
      const result = await transport.send(
        { method: 'GET', path: `/webhooks/${encodeURIComponent(webhookId)}`, schema: webhookEnvelope },
        background(options),
      )
      return result.webhook
    },
    async create(input: WebhookInput, options?: CallOptions): Promise<Webhook> {
      const result = await transport.send(
        { method: 'POST', path: '/webhooks', body: input, schema: webhookEnvelope },
        background(options),
      )
      return result.webhook
    },
    async update(webhookId: string, input: Partial<WebhookInput>, options?: CallOptions): Promise<Webhook> {
      const result = await transport.send(
        { method: 'PUT', path: `/webhooks/${encodeURIComponent(webhookId)}`, body: input, schema: webhookEnvelope },
        background(options),
      )
      return result.webhook
    },
    async delete(webhookId: string, options?: CallOptions): Promise<void> {
      await transport.send(
        { method: 'DELETE', path: `/webhooks/${encodeURIComponent(webhookId)}`, schema: ignoredBody },
        background(options),
      )
    },
    /** Ask Recharge to send a test delivery to the webhook's address. */
    async test(webhookId: string, options?: CallOptions): Promise<void> {
      await transport.send(
        { method: 'POST', path: `/webhooks/${encodeURIComponent(webhookId)}/test`, schema: ignoredBody },
        background(options),
      )
    },
  }
}

export type WebhooksResource = ReturnType<typeof webhooksResource>
