import type { RechargeTransport } from '../types.ts'

// Placeholder: the checkouts resource is filled in by the capability that owns it.
export function checkoutsResource(_transport: RechargeTransport) {
  return {}
}
