import { z } from 'zod'
import { text } from './common.ts'
import { listOf, nullish } from './lenient.ts'

/** What the token may do (its scopes); used by readiness and `recharge-bridge token` diagnostics. */
export const tokenInformationSchema = z.object({
  name: nullish(text),
  client_name: nullish(text),
  contact_email: nullish(z.string()),
  scopes: listOf(z.string()),
})
export type TokenInformation = z.output<typeof tokenInformationSchema>

export const tokenInformationEnvelope = z
  .object({ token_information: tokenInformationSchema })
  .transform((body) => body.token_information)
