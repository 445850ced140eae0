import type { RechargeTransport } from '../types.ts'

// Placeholder: the plans resource is filled in by the capability that owns it.
export function plansResource(_transport: RechargeTransport) {
  return {}
}
