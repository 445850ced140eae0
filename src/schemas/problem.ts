import { z } from 'zod'

/** The problem+json body of every error response (src/errors.ts renders it), for route response schemas. */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number(),
    detail: z.string().optional(),
    code: z.string(),
    requestId: z.string(),
  })
  .describe('RFC 9457 problem document')
