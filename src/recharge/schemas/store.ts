import { z } from 'zod'
import { text } from './common.ts'
import { id, nullish, timestamp } from './lenient.ts'

export const storeSchema = z.object({
  id: nullish(id),
  name: nullish(text),
  email: nullish(z.string()),
  domain: nullish(z.string()),
  myshopify_domain: nullish(z.string()),
  external_platform: nullish(z.string()),
  currency: nullish(z.string()),
  iana_timezone: nullish(z.string()),
  timezone: nullish(z.string()),
  weight_unit: nullish(z.string()),
  created_at: nullish(timestamp),
  updated_at: nullish(timestamp),
})
export type Store = z.output<typeof storeSchema>

export const storeEnvelope = z.object({ store: storeSchema }).transform((body) => body.store)
