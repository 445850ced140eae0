import type { RechargeTransport } from '../types.ts'

// Placeholder: the async batches resource is filled in by the catalog capability.
export function asyncBatchesResource(_transport: RechargeTransport) {
  return {}
}
