import { storeEnvelope } from '../schemas/store.ts'
import type { CallOptions, RechargeTransport } from '../types.ts'

export function storeResource(transport: RechargeTransport) {
  return {
    get(options?: CallOptions) {
      return transport.send({ method: 'GET', path: '/store', schema: storeEnvelope }, options)
    },
  }
}
