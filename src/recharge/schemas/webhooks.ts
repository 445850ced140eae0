import { z } from 'zod'
import { id, nullish, timestamp } from './lenient.ts'

/** A webhook subscription as Recharge 2021-11 returns it (`{"webhook": {…}}`, `{"webhooks": […]}`). */
export const webhookSchema = z.object({
  id,
  address: z.string(),
  topic: z.string(),
  included_objects: nullish(z.array(z.string())),
  version: nullish(z.string()),
  created_at: nullish(timestamp),
  updated_at: nullish(timestamp),
})

export type Webhook = z.infer<typeof webhookSchema>

export const webhookEnvelope = z.object({ webhook: webhookSchema })

export const webhookListEnvelope = z.object({
  webhooks: z.array(webhookSchema),
  next_cursor: nullish(z.string()),
  previous_cursor: nullish(z.string()),
})

/** DELETE and the test trigger answer with an empty or irrelevant body. */
export const ignoredBody = z.unknown()

export interface WebhookInput {
  address: string
  topic: string
  included_objects?: string[]
}
