import { tokenInformationEnvelope } from '../schemas/token-information.ts'
import type { CallOptions, RechargeTransport } from '../types.ts'

export function tokenInformationResource(transport: RechargeTransport) {
  return {
    get(options?: CallOptions) {
      return transport.send({ method: 'GET', path: '/token_information', schema: tokenInformationEnvelope }, options)
    },
  }
}
