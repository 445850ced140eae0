import type { RechargeTransport } from '../types.ts'

// Placeholder: the products resource is filled in by the capability that owns it.
export function productsResource(_transport: RechargeTransport) {
  return {}
}
