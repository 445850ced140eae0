import type { ZodType } from 'zod'
import type { Lane } from '../infra/lane.ts'

export type { Lane }

/**
 * The contract between routes/features and the Recharge layer. The transport (client core + queue + dispatcher)
 * implements `RechargeTransport`; resource modules in src/recharge/resources/ build typed methods on top of it.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE'

export type QueryValue = string | number | boolean | undefined | null | readonly (string | number)[]

export interface CallOptions {
  /** Default 'interactive'. */
  lane?: Lane
  /** Milliseconds from now by which the call must have been answered; default 3 s interactive, 60 s background. */
  deadlineMs?: number
  /** Aborts waiting for a slot and the upstream request (e.g. the shopper's connection closed). */
  signal?: AbortSignal
  /** Writes under one Recharge address are serialised across replicas (Recharge answers 409 otherwise). */
  addressId?: string | number
  /** Request id of the inbound request, for logs correlation. */
  requestId?: string
}

export interface UpstreamRequest<T> {
  method: HttpMethod
  /** Path under the API root, with ids already encoded: `/subscriptions/123`. */
  path: string
  query?: Record<string, QueryValue>
  body?: unknown
  /** Lenient zod schema the 2xx body must parse with; a mismatch is a BadResponse error. */
  schema: ZodType<T>
}

export interface RechargeTransport {
  send<T>(request: UpstreamRequest<T>, options?: CallOptions): Promise<T>
}
