/**
 * autocannon runs with the conventions of every suite: keep-alive connections, pipelining 1 (browsers do not
 * pipeline), every body verified (a fast wrong answer is an error, not a result).
 */
import autocannon from 'autocannon'

export interface LoadTarget {
  url: string
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  /** The exact body a correct answer carries; anything else counts as a mismatch. */
  expectBody?: string
  /** Or a predicate over the body. */
  verifyBody?: (body: string) => boolean
  /** Per-request body and headers (webhook deliveries). */
  nextRequest?: () => { body: string; headers: Record<string, string> }
}

export interface LoadOptions {
  connections: number
  durationS: number
  /** Fixed offered rate (coordinated-omission corrected); closed loop when unset. */
  overallRate?: number
  /** Called with each response's status and headers (time series and X-Cache counts for the cache suites). */
  onResponse?: (status: number, headers: Record<string, string>, body: string) => void
}

export interface LoadSample {
  rps: number
  p50: number
  p90: number
  p99: number
  max: number
  requests: number
  non2xx: number
  errors: number
  timeouts: number
  mismatches: number
}

export async function runLoad(target: LoadTarget, options: LoadOptions): Promise<LoadSample> {
  const verify = target.verifyBody ?? (target.expectBody === undefined ? undefined : exactly(target.expectBody))
  const perRequest = target.nextRequest
  const onResponse = options.onResponse
  const result = await autocannon({
    url: target.url,
    method: target.method ?? 'GET',
    connections: options.connections,
    pipelining: 1,
    duration: options.durationS,
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
    ...(target.headers ? { headers: target.headers } : {}),
    ...(verify ? { verifyBody: (body: string | Buffer | undefined) => verify(String(body ?? '')) } : {}),
    ...(perRequest || onResponse
      ? {
          requests: [
            {
              ...(perRequest
                ? {
                    setupRequest: (request: autocannon.Request) => {
                      const next = perRequest()
                      return { ...request, body: next.body, headers: { ...request.headers, ...next.headers } }
                    },
                  }
                : {}),
              ...(onResponse
                ? {
                    onResponse: (
                      status: number,
                      body: string,
                      _context: object,
                      headers: autocannon.Request['headers'],
                    ) => onResponse(status, lowerCaseKeys(headers), body),
                  }
                : {}),
            },
          ],
        }
      : {}),
  })
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    mismatches: result.mismatches,
  }
}

function lowerCaseKeys(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (headers && typeof headers === 'object') {
    for (const [key, value] of Object.entries(headers)) out[key.toLowerCase()] = String(value)
  }
  return out
}

function exactly(expected: string): (body: string) => boolean {
  return (body) => body === expected
}

/** Sorted-copy median; the mean of the two middle values for an even count. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number
}
