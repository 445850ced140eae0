import type { CallOptions, RechargeTransport, UpstreamRequest } from '../../recharge/types.ts'

export interface CallCounts {
  reads: number
  writes: number
}

/**
 * Wraps the transport a sync uses: counts upstream calls (the report's calls-per-item and the floor ratio), forces
 * the background lane, and lets a caller observe each write (tests abort a run after N writes).
 */
export function countingTransport(
  inner: RechargeTransport,
  counts: CallCounts,
  hooks: { signal?: AbortSignal; afterWrite?: (method: string, path: string) => void } = {},
): RechargeTransport {
  return {
    async send<T>(request: UpstreamRequest<T>, options: CallOptions = {}): Promise<T> {
      hooks.signal?.throwIfAborted()
      const write = request.method !== 'GET'
      const signal = options.signal ?? hooks.signal
      const result = await inner.send(request, { ...options, lane: 'background', ...(signal ? { signal } : {}) })
      if (write) {
        counts.writes += 1
        hooks.afterWrite?.(request.method, request.path)
      } else {
        counts.reads += 1
      }
      return result
    },
  }
}
