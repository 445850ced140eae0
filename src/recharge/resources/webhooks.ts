import type { RechargeTransport } from '../types.ts'

// Placeholder: the webhooks resource is filled in by the capability that owns it.
export function webhooksResource(_transport: RechargeTransport) {
  return {}
}
